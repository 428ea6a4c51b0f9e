"""GetThroughput against a real tote: orders placed, packed, shipped, delivered and cancelled per
hour, from the order events, for one FC or all, empty hours included, the current hour last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc

from core.persistence.db import Database
from core.service import events as event_log
from tests.harness import Client, unique
from tests.integration.test_picking import product, ready_order, refused
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2 as fpb
from tote.v1 import orders_pb2

FIELDS = ("placed", "packed", "shipped", "delivered", "cancelled")


def throughput(client: Client, fc_id: str = "", hours: int = 0) -> list[fpb.ThroughputBucket]:
    return list(client.fulfillment.GetThroughput(fpb.GetThroughputRequest(
        fc_id=fc_id, hours=hours), metadata=client.metadata).buckets)


def by_hour(buckets: list[fpb.ThroughputBucket]) -> dict[datetime, tuple[int, ...]]:
    return {b.hour_start.ToDatetime(UTC): tuple(getattr(b, f) for f in FIELDS)
            for b in buckets}


def hour_of(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def add_events(tote, order_id: str, fc_id: str,  # type: ignore[no-untyped-def]
               stamped: list[tuple[str, str, datetime]]) -> None:
    """Events of an order as if they had happened at those moments (type, status, when)."""
    db = Database(tote.db_url)

    class _Order:
        def __init__(self, status: str) -> None:
            self.order_id, self.status, self.fc_id, self.storefront = (
                order_id, status, fc_id, "shop-a")

    try:
        db.run_write(lambda s: [event_log.record(s, _Order(status), type_, when)
                                for type_, status, when in stamped])
    finally:
        db.dispose()



def test_each_hour_counts_the_orders_of_the_fc_that_moved_in_it(tote, admin, shop, ops):
    fc = unique("FC")
    admin.fc(fc)
    sku, _ = product(admin, fc, 10)
    kept = ready_order(shop, [(sku, 1)])
    dropped = ready_order(shop, [(sku, 1)])
    shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=dropped, reason="no"),
                            metadata=shop.metadata)
    assert shop.wait_status(dropped, {pb.ORDER_STATUS_CANCELLED}).status == (
        pb.ORDER_STATUS_CANCELLED)
    now = datetime.now(UTC)
    here = hour_of(now)
    add_events(tote, kept, fc, [
        ("Order_Packed", "PICKING", here - timedelta(hours=3, minutes=-5)),  # a first parcel
        ("Order_Packed", "PACKED", here - timedelta(hours=3, minutes=-50)),
        ("Order_Shipped", "SHIPPED", here - timedelta(hours=2, minutes=-1)),
        ("Order_Delivered", "DELIVERED", here - timedelta(hours=1, minutes=-59)),
        ("Order_Delivered", "DELIVERED", here - timedelta(hours=13)),  # outside the window
        ("Item_Picked", "PICKING", here - timedelta(hours=1)),  # not counted
    ])
    placed = {e.occurred_at.ToDatetime(UTC) for o in (kept, dropped)
              for e in shop.events(o, timeout_s=0.5) if e.type == "Order_Created"}
    cancelled = {e.occurred_at.ToDatetime(UTC) for e in shop.events(dropped, timeout_s=0.5)
                 if e.type == "Order_Cancelled"}

    buckets = throughput(ops, fc)
    hours = [b.hour_start.ToDatetime(UTC) for b in buckets]
    assert len(hours) == 12 and hours == sorted(hours)
    assert all(b - a == timedelta(hours=1) for a, b in zip(hours, hours[1:], strict=False))
    last = hours[-1]
    assert last in (here, here + timedelta(hours=1))  # (the hour may turn during the test)
    expected: dict[datetime, list[int]] = {h: [0] * 5 for h in hours}
    moved = [(t, 0) for t in placed] + [(t, 4) for t in cancelled] + [
        (here - timedelta(hours=3), 1), (here - timedelta(hours=2), 2),
        (here - timedelta(hours=1), 3)]
    for t, field in moved:
        if hour_of(t) in expected:
            expected[hour_of(t)][field] += 1
    assert by_hour(buckets) == {h: tuple(c) for h, c in expected.items()}
    assert sum(sum(c) for c in expected.values()) == 6

    # Every FC: at least this FC's orders; one hour: the current one only.
    everywhere = by_hour(throughput(ops, "", 12))
    assert all(x >= y for h, counts in by_hour(buckets).items()
               for x, y in zip(everywhere[h], counts, strict=True))
    (only,) = throughput(ops, fc, 1)
    assert only.hour_start.ToDatetime(UTC) >= last
    assert len(throughput(ops, fc, 168)) == 168


def test_throughput_of_an_fc_with_nothing_going_on_is_empty_hours(tote, ops):
    buckets = throughput(ops, unique("FC"), 5)
    assert len(buckets) == 5 and all(set(by_hour([b]).values()) == {(0,) * 5} for b in buckets)


def test_hours_outside_one_to_a_week_are_refused(tote, ops, shop):
    for hours in (-1, 169):
        message = refused(lambda: throughput(ops, "", hours),  # noqa: B023
                          grpc.StatusCode.INVALID_ARGUMENT)
        assert "hours" in message
    refused(lambda: throughput(shop), grpc.StatusCode.PERMISSION_DENIED)
    picker = tote.client(tote.token("picker", "p"))
    refused(lambda: throughput(picker), grpc.StatusCode.PERMISSION_DENIED)
