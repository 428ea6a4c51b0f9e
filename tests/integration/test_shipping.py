"""Hand-off, tracking and delivery through the RPCs, against a real tote and sandbox carrier."""

from __future__ import annotations

import time

import grpc
import httpx
import pytest
from sqlalchemy import select, update

from core.persistence.db import Database
from core.persistence.fulfillment_models import Shipment, TrackingEvent
from core.persistence.models import OrderEvent
from core.service import check
from tests.harness import Client, ToteServer, card, cod, ledger, sandbox_card, unique, upi
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2, inventory_pb2, shipping_pb2

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED
PACKED, SHIPPED, DELIVERED = (pb.ORDER_STATUS_PACKED, pb.ORDER_STATUS_SHIPPED,
                              pb.ORDER_STATUS_DELIVERED)


# -- getting a parcel to "packed": a picker scans every unit, then packs the box -----------------

_PICKERS: dict[str, Client] = {}


def picker(tote) -> Client:  # type: ignore[no-untyped-def]
    """One picker handheld at FC-BLR per server."""
    if tote.grpc_address not in _PICKERS:
        _PICKERS[tote.grpc_address] = tote.client(tote.token("picker", "p1", "FC-BLR"))
    return _PICKERS[tote.grpc_address]


def pick_and_pack(tote, order_id: str, units: int = 2) -> str:  # type: ignore[no-untyped-def]
    """Pick (NextPickTask/ScanItem) and pack (PackOrder) the order; its tracking number."""
    client = picker(tote)
    while True:
        try:
            task = client.fulfillment.NextPickTask(
                fulfillment_pb2.NextPickTaskRequest(fc_id="FC-BLR"), metadata=client.metadata)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            break
        for line in task.lines:
            for i in range(line.quantity - line.picked):
                client.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                    task_id=task.task_id, barcode=line.gtin, scan_id=f"{line.line_id}-{i}"),
                    metadata=client.metadata)
    weight = units * 350 + 250  # the units and box M
    packed = client.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
        order_id=order_id, weight_grams=weight, box="M"), metadata=client.metadata, timeout=60)
    assert packed.order.status == PACKED, packed.order.cancel_reason
    return packed.order.tracking_number


# -- helpers -------------------------------------------------------------------------------------

def ready_order(tote, admin: Client, shop: Client, payment, units: int = 2):  # type: ignore[no-untyped-def]
    """A PROCESSING order of `units` × a new SKU (5 received at FC-BLR); (order, sku)."""
    sku = unique("MUG")
    admin.product(sku, price_minor=49_900, weight_grams=350)
    admin.receive("FC-BLR", sku, 5)
    placed = shop.place([(sku, units)], payment)
    if placed.payment.upi_intent_id:
        httpx.post(f"{tote.sandbox_url}/v1/upi/intents/{placed.payment.upi_intent_id}/approve"
                   ).raise_for_status()
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    return order, sku


def levels(admin: Client, sku: str) -> tuple[int, int, int]:
    """(on_hand, soft_locked, hard_locked) at FC-BLR."""
    (level,) = admin.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku, fc_id="FC-BLR"),
                                        metadata=admin.metadata).levels
    return level.on_hand, level.soft_locked, level.hard_locked


def hand_off(client: Client, *tracking: str, carrier: str = "sandbox") -> shipping_pb2.Manifest:
    return client.shipping.HandOff(shipping_pb2.HandOffRequest(
        carrier=carrier, tracking_numbers=list(tracking)), metadata=client.metadata)


def track(client: Client, tracking: str, status: str, cod_minor: int | None = None,
          location: str = "Bengaluru hub") -> pb.Order:
    cash = pb.Money(amount_minor=cod_minor, currency="INR") if cod_minor is not None else None
    return client.shipping.RecordTrackingEvent(shipping_pb2.RecordTrackingEventRequest(
        tracking_number=tracking, status=status, location=location, cod_collected=cash),
        metadata=client.metadata).order


def findings(tote) -> list[str]:  # type: ignore[no-untyped-def]
    db = Database(tote.db_url)
    try:
        return db.run_read(check.findings)
    finally:
        db.dispose()


def stored_event_types(tote, order_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    db = Database(tote.db_url)
    try:
        return db.run_read(lambda s: list(s.scalars(select(OrderEvent.type).where(
            OrderEvent.order_id == order_id).order_by(OrderEvent.event_id))))
    finally:
        db.dispose()


def wait_for(predicate, timeout_s: float = 15):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    """This module's server polls tracking and settles every half second."""
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"), args=[
        "--cod-limit-minor", "2000000", "--tracking-poll-s", "0.5",
        "--settlement-interval-s", "0.5"]).start()
    try:
        yield server
    finally:
        server.terminate()


# -- scenarios -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["card", "upi", "cod"])
def test_order_is_handed_off_tracked_and_delivered_with_stock_gone_and_no_lock_left(
        tote, admin, shop, ops, carrier, method):
    payment = {"card": lambda: card(sandbox_card(tote.sandbox_url)), "upi": upi,
               "cod": cod}[method]()
    order, sku = ready_order(tote, admin, shop, payment)
    tracking = pick_and_pack(tote, order.order_id)
    assert levels(admin, sku) == (5, 0, 2)

    manifest = hand_off(ops, tracking)
    assert manifest.manifest_id and list(manifest.tracking_numbers) == [tracking]
    assert shop.get(order.order_id).status == SHIPPED
    assert levels(admin, sku) == (3, 0, 0)

    assert track(carrier, tracking, "in_transit").status == SHIPPED
    assert track(carrier, tracking, "out_for_delivery").status == SHIPPED
    cash = order.total.amount_minor if method == "cod" else None
    delivered = track(carrier, tracking, "delivered", cod_minor=cash, location="Front door")
    assert delivered.status == DELIVERED
    # (a prepaid order may be settled as soon as it ships: this server settles every 0.5 s)
    assert delivered.payment.state in (
        {"cod_collected"} if method == "cod" else {"captured", "settled"})

    types = [e.type for e in shop.events(order.order_id, timeout_s=5)
             if e.type != "Payment_Settled"]
    tail = ["Order_Shipped", "Tracking_Updated", "Order_Out_for_Delivery"]
    tail += ["Cod_Collected"] if method == "cod" else []
    assert types[-len(tail) - 1:] == [*tail, "Order_Delivered"]
    assert levels(admin, sku) == (3, 0, 0)
    assert findings(tote) == []


def test_hand_off_refuses_every_offender_and_ships_nothing(tote, admin, shop, ops):
    good, sku = ready_order(tote, admin, shop, cod())
    good_tn = pick_and_pack(tote, good.order_id)
    unpacked, _ = ready_order(tote, admin, shop, cod())
    shipped, _ = ready_order(tote, admin, shop, cod())
    shipped_tn = pick_and_pack(tote, shipped.order_id)
    hand_off(ops, shipped_tn)
    db = Database(tote.db_url)
    other_tn, packing_tn = unique("OTHER"), unique("PACKING")
    try:  # a parcel booked with another carrier, and one booked but still being packed
        other, _ = ready_order(tote, admin, shop, cod())
        tn = pick_and_pack(tote, other.order_id)
        db.run_write(lambda s: s.execute(update(Shipment).where(
            Shipment.tracking_number == tn).values(carrier="bluedart", tracking_number=other_tn)))
        db.run_write(lambda s: s.execute(update(Shipment).where(
            Shipment.order_id == unpacked.order_id).values(
            carrier="sandbox", tracking_number=packing_tn, status="packing")))
    finally:
        db.dispose()

    with pytest.raises(grpc.RpcError) as refused:
        hand_off(ops, good_tn, "TT0000000000", shipped_tn, other_tn, packing_tn)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    detail = refused.value.details()
    assert "TT0000000000: unknown tracking number" in detail
    assert f"{shipped_tn}: already shipped" in detail
    assert f"{other_tn}: belongs to carrier 'bluedart'" in detail
    assert f"{packing_tn}: not packed (its status is 'packing')" in detail
    assert good_tn not in detail
    assert shop.get(good.order_id).status == PACKED
    assert levels(admin, sku) == (5, 0, 2)
    assert hand_off(ops, good_tn).tracking_numbers == [good_tn]
    assert findings(tote) == []


def test_only_the_carrier_records_tracking_and_unknown_parcels_are_not_found(
        tote, admin, shop, ops, carrier):
    with pytest.raises(grpc.RpcError) as denied:
        track(ops, "TT0000000001", "in_transit")
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as missing:
        track(carrier, "TT0000000001", "in_transit")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    order, _ = ready_order(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    tracking = pick_and_pack(tote, order.order_id)
    with pytest.raises(grpc.RpcError) as early:
        track(carrier, tracking, "in_transit")
    assert early.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    hand_off(ops, tracking)
    with pytest.raises(grpc.RpcError) as bad:
        track(carrier, tracking, "lost_in_space")
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert track(carrier, tracking, "delivered").status == DELIVERED
    # A late scan is kept but does not move the parcel back.
    assert track(carrier, tracking, "in_transit").status == DELIVERED
    assert findings(tote) == []


def advance(tote, tracking: str) -> None:  # type: ignore[no-untyped-def]
    httpx.post(f"{tote.sandbox_url}/v1/shipments/{tracking}/advance", json={}).raise_for_status()


def test_sandbox_carrier_webhooks_deliver_the_parcel_and_the_capture_is_settled_once(
        tote, admin, shop, ops):
    order, _ = ready_order(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    tracking = pick_and_pack(tote, order.order_id)
    hand_off(ops, tracking)
    for _ in range(3):  # in_transit → out_for_delivery → delivered, each a signed webhook
        advance(tote, tracking)
    delivered = shop.wait_status(order.order_id, {DELIVERED}, timeout_s=15)
    assert delivered.status == DELIVERED
    settled = wait_for(lambda: shop.get(order.order_id).payment.state == "settled")
    assert settled, shop.get(order.order_id).payment.state
    types = [e.type for e in shop.events(order.order_id, timeout_s=5)]
    assert types.count("Tracking_Updated") == 1 and types.count("Order_Delivered") == 1
    assert types.count("Order_Out_for_Delivery") == 1
    entries = [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "settlement"]
    assert [(e["amount_minor"], e["status"]) for e in entries] == [
        (order.total.amount_minor, "settled")]
    # A later pass settles the next order delivered; it settles nothing of the first again.
    later, _ = ready_order(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    later_tracking = pick_and_pack(tote, later.order_id)
    hand_off(ops, later_tracking)
    for _ in range(3):
        advance(tote, later_tracking)
    assert wait_for(lambda: shop.get(later.order_id).payment.state == "settled")
    assert len([e for e in ledger(tote.sandbox_url, order.order_id)
                if e["kind"] == "settlement"]) == 1
    # (WatchOrder ends at DELIVERED; the settlement comes after, so read the history itself)
    assert stored_event_types(tote, order.order_id).count("Payment_Settled") == 1
    assert findings(tote) == []


def test_a_dropped_webhook_is_made_up_for_by_polling_the_carrier(tote, admin, shop, ops):
    order, _ = ready_order(tote, admin, shop, cod())
    tracking = pick_and_pack(tote, order.order_id)
    hand_off(ops, tracking)
    httpx.post(f"{tote.sandbox_url}/v1/sandbox/faults",
               json={"route": "shipment", "kind": "drop_webhook", "count": 3}).raise_for_status()
    for _ in range(3):
        advance(tote, tracking)
    delivered = shop.wait_status(order.order_id, {DELIVERED}, timeout_s=15)
    assert delivered.status == DELIVERED
    assert delivered.payment.state == "cod_collected"
    types = [e.type for e in shop.events(order.order_id, timeout_s=5)]
    assert types[-4:] == ["Tracking_Updated", "Order_Out_for_Delivery", "Cod_Collected",
                          "Order_Delivered"]
    db = Database(tote.db_url)
    try:
        sources = db.run_read(lambda s: sorted(s.execute(select(
            TrackingEvent.status, TrackingEvent.source).where(
            TrackingEvent.tracking_number == tracking)).all()))
    finally:
        db.dispose()
    assert sources == [("delivered", "poll"), ("in_transit", "poll"),
                       ("out_for_delivery", "poll")]
    assert findings(tote) == []


def test_a_manifest_is_handed_back_with_its_pdf_and_read_again_by_its_id(
        tote, admin, shop, ops):
    import datetime as dt

    from labels import verify

    first, _ = ready_order(tote, admin, shop, cod(), units=1)
    second, _ = ready_order(tote, admin, shop, cod(), units=1)
    numbers = [pick_and_pack(tote, first.order_id, 1), pick_and_pack(tote, second.order_id, 1)]
    before = dt.datetime.now(dt.UTC)
    handed = hand_off(ops, *numbers)
    assert handed.pdf.startswith(b"%PDF")
    read = {c.data for c in verify(handed.pdf)}
    assert {handed.manifest_id, *numbers} <= read
    created = handed.created_at.ToDatetime(dt.UTC)
    assert before - dt.timedelta(seconds=1) <= created <= dt.datetime.now(dt.UTC)

    again = ops.shipping.GetManifest(shipping_pb2.GetManifestRequest(
        manifest_id=handed.manifest_id), metadata=ops.metadata)
    assert again == handed  # the same PDF bytes, the same moment, the same parcels

    for manifest_id, code in (("MF-NONE", grpc.StatusCode.NOT_FOUND),
                              ("", grpc.StatusCode.INVALID_ARGUMENT)):
        with pytest.raises(grpc.RpcError) as info:
            ops.shipping.GetManifest(shipping_pb2.GetManifestRequest(manifest_id=manifest_id),
                                     metadata=ops.metadata)
        assert info.value.code() == code
