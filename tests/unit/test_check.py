"""`tote check` finds each broken invariant, and nothing in a consistent database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from core.domain.order import payment_amounts_disagree
from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.fulfillment_models import PickLine, Shipment
from core.persistence.models import FulfillmentCenter, Order, Product, SoftLock, StockLevel
from core.service.check import findings
from server.cli import cli

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):  # type: ignore[no-untyped-def]
    path = str(tmp_path / "check.db")
    migrate.upgrade(path)
    database = Database(path)
    database.run_write(lambda s: s.add_all([
        FulfillmentCenter(fc_id="FC", name="FC", latitude=0, longitude=0, cutoff_hour=16,
                          daily_capacity=10, address={}),
        Product(sku="MUG", name="Mug", gtin="4006381333931", unit_price_minor=100,
                currency="INR", weight_grams=300, updated_at=NOW)]))
    yield database
    database.dispose()


def order(order_id: str, status: str, **kw) -> Order:  # type: ignore[no-untyped-def]
    base = dict(order_id=order_id, storefront="s", idempotency_key=order_id, request_hash="h",
                customer_id="c", currency="INR", subtotal_minor=200, shipping_fee_minor=40,
                total_minor=240, weight_grams=600, ship_to={}, status=status,
                inventory_state="locked", payment_method="card", payment_state="captured",
                authorized_minor=240, captured_minor=240, refunded_minor=0, created_at=NOW,
                updated_at=NOW)
    base.update(kw)
    return Order(**base)


def add(db, *rows) -> None:  # type: ignore[no-untyped-def]
    """Insert parents before children (the models declare no relationships to order them)."""
    rank = {Order: 0, StockLevel: 0, Shipment: 1, SoftLock: 1, PickLine: 2}

    def write(s):  # type: ignore[no-untyped-def]
        for level in range(3):
            s.add_all([r for r in rows if rank[type(r)] == level])
            s.flush()

    db.run_write(write)


def shipped(order_id: str, status: str = "shipped", picked: int = 2) -> list[object]:
    return [Shipment(shipment_id=f"sh-{order_id}", order_id=order_id, fc_id="FC", status=status,
                     value_minor=200, cod_due_minor=0, created_at=NOW, updated_at=NOW),
            PickLine(line_id=f"pl-{order_id}", shipment_id=f"sh-{order_id}", order_id=order_id,
                     fc_id="FC", sku="MUG", gtin="4006381333931", bin="A", quantity=2,
                     picked=picked, missing=0, unit_price_minor=100, weight_grams=300)]


def test_a_shipped_order_with_its_stock_gone_is_clean(db):
    add(db, *[
        StockLevel(fc_id="FC", sku="MUG", on_hand=3, soft_locked=0, hard_locked=0,
                   received_total=5, bin="A"),
        order("o1", "DELIVERED"), *shipped("o1", "delivered")])
    assert db.run_read(findings) == []


def test_a_unit_reported_short_has_left_the_shelf_and_is_not_a_finding(db):
    # 2 ordered, 1 picked and shipped, 1 reported short (taken off on hand): 5 = 3 + 1 + 1
    rows = shipped("o1", "delivered", picked=1)
    rows[1].missing = 1  # type: ignore[attr-defined]
    rows[0].value_minor = 100  # type: ignore[attr-defined]
    add(db, StockLevel(fc_id="FC", sku="MUG", on_hand=3, soft_locked=0, hard_locked=0,
                       received_total=5, bin="A"),
        order("o1", "DELIVERED", captured_minor=140), *rows)
    assert db.run_read(findings) == []
    db.run_write(lambda s: s.execute(update(StockLevel).values(on_hand=2)))
    assert db.run_read(findings) == [
        "stock of MUG at FC: received 5 but on hand 2 + shipped 1 + reported short 1 = 4"]


def test_a_lock_a_short_pick_emptied_holds_nothing_once_the_order_is_delivered(db):
    add(db, StockLevel(fc_id="FC", sku="MUG", on_hand=3, soft_locked=0, hard_locked=0,
                       received_total=5, bin="A"),
        order("o1", "DELIVERED"), *shipped("o1", "delivered"),
        SoftLock(order_id="o1", fc_id="FC", sku="MUG", quantity=0, hard_quantity=0))
    assert db.run_read(findings) == []


def test_every_broken_invariant_is_a_finding(db):
    add(db, *[
        # received 5, on hand 4, 2 shipped: a unit appeared from nowhere
        StockLevel(fc_id="FC", sku="MUG", on_hand=4, soft_locked=1, hard_locked=0,
                   received_total=5, bin="A"),
        order("o1", "SHIPPED", captured_minor=300, authorized_minor=240), *shipped("o1"),
        order("o2", "CANCELLED", captured_minor=0, refunded_minor=10),
        order("o3", "LOST"),
        SoftLock(order_id="o2", fc_id="FC", sku="MUG", quantity=1, hard_quantity=0)])
    found = "\n".join(db.run_read(findings))
    assert "stock of MUG at FC: received 5 but on hand 4 + shipped 2 = 6" in found
    assert ("order o1 (SHIPPED): captured exceeds authorized (payment captured: authorized "
            "₹2.40, captured ₹3.00, refunded ₹0.00)") in found
    assert "order o1 (SHIPPED): captured − refunded is ₹3.00 but the value shipped is ₹2.40" \
        in found
    assert "order o2 (CANCELLED): refunded exceeds captured" in found
    assert "order o3 (LOST): 'LOST' is not an order status" in found
    assert "lock on 1 soft + 0 hard MUG at FC is held for order o2, which is CANCELLED" in found


def test_a_refunded_order_must_show_what_was_taken_and_given_back(db):
    # A cancelled UPI order whose debit was refunded in full: consistent.
    add(db, order("o1", "CANCELLED", inventory_state="released", payment_method="upi",
                  payment_state="refunded", captured_minor=240, refunded_minor=240))
    assert db.run_read(findings) == []
    # The gateway took and gave back 240, but the order says nothing moved (issue 13).
    add(db, order("o2", "CANCELLED", inventory_state="released", payment_method="upi",
                  payment_state="refunded", captured_minor=0, refunded_minor=0),
        order("o3", "CANCELLED", inventory_state="released", payment_state="refunded",
              captured_minor=240, refunded_minor=100))
    assert [f for f in db.run_read(findings) if "payment is refunded" in f] == [
        "order o2 (CANCELLED): payment is refunded: refunded must equal captured, and be more "
        "than zero (payment refunded: authorized ₹2.40, captured ₹0.00, refunded ₹0.00)",
        "order o3 (CANCELLED): payment is refunded: refunded must equal captured, and be more "
        "than zero (payment refunded: authorized ₹2.40, captured ₹2.40, refunded ₹1.00)"]


# (method, payment state, authorized, captured, refunded) → the finding's start, or None.
AMOUNTS = [
    ("card", "authorizing", 0, 0, 0, None),
    ("card", "authorized", 240, 0, 0, None),
    ("card", "authorized", 240, 240, 0, "a card hold is not captured before packing"),
    ("upi", "intent_pending", 0, 0, 0, None),
    ("upi", "authorized", 240, 240, 0, None),
    # The gateway debited the customer at approval; the order said nothing was taken.
    ("upi", "authorized", 240, 0, 0, "an approved UPI payment is a debit"),
    ("upi", "voiding", 240, 240, 0, None),
    ("card", "voided", 240, 0, 0, None),
    ("card", "voided", 240, 240, 0, "payment is voided yet money was taken"),
    ("card", "failed", 0, 0, 0, None),
    ("card", "captured", 240, 240, 0, None),
    ("upi", "captured", 240, 240, 100, None),
    ("card", "captured", 240, 0, 0, "payment is captured but nothing is kept of it"),
    ("upi", "settled", 240, 240, 240, "payment is settled but nothing is kept of it"),
    ("upi", "refunded", 240, 240, 240, None),
    ("card", "refunded", 240, 240, 100, "payment is refunded: refunded must equal captured"),
    ("cod", "cod_pending", 0, 0, 0, None),
    ("cod", "settled", 0, 0, 0, None),
    ("cod", "cod_collected", 240, 240, 0, "cash on delivery shows gateway money"),
    ("card", "captured", 240, 300, 0, "captured exceeds authorized"),
    ("card", "captured", 240, 240, 300, "refunded exceeds captured"),
]


@pytest.mark.parametrize(("method", "state", "authorized", "captured", "refunded", "want"),
                         AMOUNTS)
def test_each_payment_state_has_the_amounts_the_gateway_moved(method, state, authorized,
                                                              captured, refunded, want):
    why = payment_amounts_disagree(method, state, authorized, captured, refunded)
    if want is None:
        assert why is None
    else:
        assert why is not None and why.startswith(want), why


def test_tote_check_exits_1_and_prints_each_finding(db):
    db.run_write(lambda s: s.add(StockLevel(fc_id="FC", sku="MUG", on_hand=9, soft_locked=0,
                                            hard_locked=0, received_total=5, bin="A")))
    path = db.url.removeprefix("sqlite:///")
    result = CliRunner().invoke(cli, ["check", "--db", path])
    assert result.exit_code == 1
    assert "received 5 but on hand 9" in result.output
