"""Cancelling a UPI order: before the customer pays, the intent is withdrawn (no money moves);
after, the debit is refunded — and the order says so in the same amounts as the gateway."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import MetaData, Table, create_engine, insert, select

from core.persistence import migrate
from core.persistence.db import Database, normalize_url
from core.service.check import findings
from tests.conftest import database_at
from tests.harness import Client, ledger, unique, upi
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


def _intent(sandbox_url: str, intent_id: str) -> dict:  # type: ignore[type-arg]
    r = httpx.get(f"{sandbox_url}/v1/upi/intents/{intent_id}")
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def _cancel(client: Client, order_id: str) -> pb.Order:
    return client.orders.CancelOrder(orders_pb2.CancelOrderRequest(
        order_id=order_id, reason="changed my mind"), metadata=client.metadata)


def _check_findings(db_url: str, order_id: str) -> list[str]:
    """`tote check`'s findings about this order (others' orders may be mid-saga)."""
    db = Database(db_url)
    try:
        return [f for f in db.run_read(findings) if order_id in f]
    finally:
        db.dispose()


def test_cancel_before_approval_withdraws_the_intent_and_moves_no_money(tote, admin, shop):
    sku = unique("DAL")
    admin.product(sku, price_minor=25_000)
    admin.receive("FC-BLR", sku, 3)
    placed = shop.place([(sku, 2)], upi())
    pending = shop.wait_payment_state(placed.order_id, {"intent_pending"})
    assert pending.payment.state == "intent_pending"
    # Soft-locked while the customer decides (the lock may commit just after the intent).
    deadline = time.monotonic() + 30
    while shop.stock(sku) != (3, 2, 1) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shop.stock(sku) == (3, 2, 1)

    order = _cancel(shop, placed.order_id)
    assert order.status == CANCELLED, order.cancel_reason
    assert "changed my mind" in order.cancel_reason
    assert order.payment.state == "voided"
    assert order.payment.captured.amount_minor == 0
    assert order.payment.refunded.amount_minor == 0
    assert shop.stock(sku) == (3, 0, 3)

    intent = _intent(tote.sandbox_url, placed.payment.upi_intent_id)
    assert intent["status"] == "cancelled"
    assert intent["payment_id"] is None
    kinds = [e["kind"] for e in ledger(tote.sandbox_url, placed.order_id)]
    assert "capture" not in kinds and "refund" not in kinds, kinds
    # The customer's app answers too late: the gateway refuses, nothing is debited.
    late = httpx.post(f"{tote.sandbox_url}/v1/upi/intents/{placed.payment.upi_intent_id}/approve")
    assert late.status_code == 409
    assert [e["kind"] for e in ledger(tote.sandbox_url, placed.order_id)] == kinds
    types = [e.type for e in shop.events(placed.order_id, timeout_s=5)]
    assert types.count("Payment_Voided") == 1 and "Payment_Refunded" not in types
    assert types[-1] == "Order_Cancelled"
    assert shop.get(placed.order_id).status == CANCELLED
    assert _check_findings(tote.db_url, placed.order_id) == []


def test_cancel_before_the_intent_reached_the_gateway_cancels_with_nothing_to_withdraw(
        tote, admin, shop):
    sku = unique("RAJMA")
    admin.product(sku, price_minor=25_000)
    admin.receive("FC-BLR", sku, 3)
    # The gateway fails every registration: the intent never exists there.
    httpx.post(f"{tote.sandbox_url}/v1/sandbox/faults", json={
        "route": "upi_intent", "kind": "http_500", "count": 1000}).raise_for_status()
    try:
        placed = shop.place([(sku, 1)], upi())
        assert shop.get(placed.order_id).payment.state == "intent_registering"
        _cancel(shop, placed.order_id)
        order = shop.wait_status(placed.order_id, {CANCELLED})
    finally:
        httpx.delete(f"{tote.sandbox_url}/v1/sandbox/faults").raise_for_status()
    assert order.status == CANCELLED, order.payment.state
    assert order.payment.state == "voided"
    assert shop.stock(sku) == (3, 0, 3)
    types = [e.type for e in shop.events(placed.order_id, timeout_s=5)]
    assert types.count("Payment_Voided") == 1 and types[-1] == "Order_Cancelled"
    assert _check_findings(tote.db_url, placed.order_id) == []


def test_cancel_after_approval_refunds_the_debit_and_the_order_shows_it(tote, admin, shop):
    sku = unique("GHEE")
    admin.product(sku, price_minor=25_000)
    admin.receive("FC-BLR", sku, 3)
    placed = shop.place([(sku, 1)], upi())
    shop.wait_payment_state(placed.order_id, {"intent_pending"})
    r = httpx.post(f"{tote.sandbox_url}/v1/upi/intents/{placed.payment.upi_intent_id}/approve")
    assert r.status_code == 200, r.text
    approved = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert approved.status == PROCESSING, approved.cancel_reason
    total = approved.total.amount_minor
    assert total == 25_000 + 4_000
    # The approval was the debit: the order shows the money taken now, not at packing.
    assert approved.payment.captured == pb.Money(amount_minor=total, currency="INR")
    assert _check_findings(tote.db_url, placed.order_id) == []

    order = _cancel(shop, placed.order_id)
    assert order.status == CANCELLED, order.cancel_reason
    assert shop.stock(sku) == (3, 0, 3)

    entries = ledger(tote.sandbox_url, placed.order_id)
    captured = sum(e["amount_minor"] for e in entries if e["kind"] == "capture")
    refunded = sum(e["amount_minor"] for e in entries if e["kind"] == "refund")
    assert (captured, refunded) == (total, total), entries
    assert _intent(tote.sandbox_url, placed.payment.upi_intent_id)["status"] == "approved"
    # What the order says matches the gateway's book.
    assert order.payment.state == "refunded"
    assert order.payment.captured == pb.Money(amount_minor=captured, currency="INR")
    assert order.payment.refunded == pb.Money(amount_minor=refunded, currency="INR")
    assert shop.get(placed.order_id).payment == order.payment
    types = [e.type for e in shop.events(placed.order_id, timeout_s=5)]
    assert types.count("Payment_Refunded") == 1 and "Payment_Voided" not in types
    assert _check_findings(tote.db_url, placed.order_id) == []


db_at_0006 = database_at("0006")  # before an approved UPI payment was recorded as captured


def test_migration_0007_records_approved_upi_debits_as_captured_and_goes_back_down(db_at_0006):
    engine = create_engine(normalize_url(db_at_0006))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    base = dict(storefront="s", request_hash="h", customer_id="c", currency="INR",
                subtotal_minor=200, shipping_fee_minor=40, total_minor=240, weight_grams=600,
                ship_to="{}", status="PROCESSING", inventory_state="locked",
                authorized_minor=240, captured_minor=0, refunded_minor=0, created_at=now,
                updated_at=now)
    rows = {"upi-approved": ("upi", "authorized"), "upi-waiting": ("upi", "intent_pending"),
            "card-hold": ("card", "authorized")}
    try:
        with engine.begin() as conn:
            orders = Table("orders", MetaData(), autoload_with=conn)
            conn.execute(insert(orders), [
                {**base, "order_id": oid, "idempotency_key": oid, "payment_method": method,
                 "payment_state": state,
                 "authorized_minor": 0 if state == "intent_pending" else 240}
                for oid, (method, state) in rows.items()])

        def captured() -> dict[str, int]:
            with engine.begin() as conn:
                return {r.order_id: r.captured_minor for r in conn.execute(
                    select(orders.c.order_id, orders.c.captured_minor))}

        migrate.upgrade(db_at_0006)
        assert captured() == {"upi-approved": 240, "upi-waiting": 0, "card-hold": 0}
        migrate.downgrade(db_at_0006, "0006")
        assert captured() == {"upi-approved": 0, "upi-waiting": 0, "card-hold": 0}
    finally:
        engine.dispose()
