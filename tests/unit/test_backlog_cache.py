"""Routing's backlog count: read at most once per TTL, plus the shipments routed since."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.fulfillment_models import Shipment
from core.persistence.models import FulfillmentCenter, Order
from core.service.routing import BacklogCache

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):  # type: ignore[no-untyped-def]
    path = str(tmp_path / "backlog.db")
    migrate.upgrade(path)
    database = Database(path)
    database.run_write(lambda s: s.add_all([
        FulfillmentCenter(fc_id=fc, name=fc, latitude=0, longitude=0, cutoff_hour=16,
                          daily_capacity=10, address={}) for fc in ("A", "B")]))
    yield database
    database.dispose()


def open_order(db: Database, n: int, fc: str, status: str = "PROCESSING",
               shipment: str = "pending") -> None:
    def write(s):  # type: ignore[no-untyped-def]
        s.add(Order(order_id=f"o{n}", storefront="s", idempotency_key=f"o{n}", request_hash="h",
                    customer_id="c", currency="INR", subtotal_minor=200, shipping_fee_minor=40,
                    total_minor=240, weight_grams=600, ship_to={}, status=status,
                    inventory_state="locked", payment_method="card", payment_state="authorized",
                    authorized_minor=240, captured_minor=0, refunded_minor=0, created_at=NOW,
                    updated_at=NOW))
        s.flush()
        s.add(Shipment(shipment_id=f"sh{n}", order_id=f"o{n}", fc_id=fc, status=shipment,
                       value_minor=200, cod_due_minor=0, created_at=NOW, updated_at=NOW))
    db.run_write(write)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def counts(db: Database, cache: BacklogCache) -> dict[str, int]:
    return db.run_read(lambda s: cache.counts(s.connection()))


def test_counts_open_shipments_of_live_orders_only(db):  # type: ignore[no-untyped-def]
    open_order(db, 1, "A")
    open_order(db, 2, "A", shipment="packed", status="PACKED")
    open_order(db, 3, "B")
    open_order(db, 4, "B", shipment="shipped", status="SHIPPED")  # handed off: not backlog
    open_order(db, 5, "B", status="CANCELLED")
    assert counts(db, BacklogCache()) == {"A": 2, "B": 1}


def test_the_count_is_reread_only_after_the_ttl_and_routed_shipments_count_at_once(db):  # type: ignore[no-untyped-def]
    clock = Clock()
    cache = BacklogCache(ttl_s=1.0, clock=clock)
    open_order(db, 1, "A")
    assert counts(db, cache) == {"A": 1}
    open_order(db, 2, "B")           # another process routed this one: not seen yet
    cache.routed({"A"})              # this process routed one to A: seen at once
    assert counts(db, cache) == {"A": 2}
    clock.t += 1.0                   # the TTL is over: counted again from the database
    assert counts(db, cache) == {"A": 1, "B": 1}
    clock.t += 0.5
    cache.routed({"A", "B"})
    assert counts(db, cache) == {"A": 2, "B": 2}


def test_a_caller_cannot_change_the_cached_counts(db):  # type: ignore[no-untyped-def]
    cache = BacklogCache()
    open_order(db, 1, "A")
    counts(db, cache)["A"] = 99
    assert counts(db, cache) == {"A": 1}
