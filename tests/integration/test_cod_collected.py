"""RecordTrackingEvent's `cod_collected`, the cash a courier reports at the door.

The rules, as tote applies them:
- cash is reported only with status "delivered", and only for a cash-on-delivery order;
  anywhere else a non-zero amount is INVALID_ARGUMENT naming cod_collected;
- it must be in the order's currency (a missing currency is not the order's) and not negative;
- a COD delivery without it is taken as the amount on the label (the courier cannot hand the
  parcel over without taking it);
- a different amount is recorded as the courier reported it, the parcel is delivered, and the
  reconciliation reports the gap for a person to chase (the order is never settled over it).
A refused event changes nothing: the parcel is still on its way, no cash, no event.
"""

from __future__ import annotations

import grpc
import pytest

from tests.harness import Client, card, cod, sandbox_card
from tests.integration.test_shipping import (
    findings,
    hand_off,
    pick_and_pack,
    ready_order,
    stored_event_types,
)
from tote.v1 import common_pb2 as pb
from tote.v1 import shipping_pb2

SHIPPED, DELIVERED = pb.ORDER_STATUS_SHIPPED, pb.ORDER_STATUS_DELIVERED


def shipped(tote, admin, shop, ops, payment) -> tuple[pb.Order, str]:  # type: ignore[no-untyped-def]
    order, _ = ready_order(tote, admin, shop, payment, units=1)
    tracking = pick_and_pack(tote, order.order_id, units=1)
    hand_off(ops, tracking)
    assert shop.get(order.order_id).status == SHIPPED
    return order, tracking


def event(carrier: Client, tracking: str, status: str,
          cash: pb.Money | None = None) -> pb.Order:
    return carrier.shipping.RecordTrackingEvent(shipping_pb2.RecordTrackingEventRequest(
        tracking_number=tracking, status=status, location="Indiranagar",
        cod_collected=cash), metadata=carrier.metadata).order


def refused(carrier: Client, tracking: str, status: str, cash: pb.Money | None) -> str:
    with pytest.raises(grpc.RpcError) as exc:
        event(carrier, tracking, status, cash)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT, exc.value.details()
    return exc.value.details()


def inr(amount: int, currency: str = "INR") -> pb.Money:
    return pb.Money(amount_minor=amount, currency=currency)


def reconciliation(ops: Client) -> shipping_pb2.CodReconciliation:
    return ops.shipping.GetCodReconciliation(shipping_pb2.GetCodReconciliationRequest(
        carrier="sandbox"), metadata=ops.metadata)


def remit(ops: Client, tracking: str, amount: int) -> None:
    """The carrier remits `amount` for the parcel (reconciled orders settle at once)."""
    ops.shipping.RecordCodRemittance(shipping_pb2.RecordCodRemittanceRequest(
        carrier="sandbox", reference=f"NEFT-{tracking}", amount=inr(amount),
        tracking_numbers=[tracking]), metadata=ops.metadata)


def nothing_happened(tote, shop: Client, order_id: str, before: list[str]) -> None:  # type: ignore[no-untyped-def]
    order = shop.get(order_id)
    assert order.status == SHIPPED
    assert order.shipments[0].status == "shipped"
    assert stored_event_types(tote, order_id) == before


@pytest.fixture(scope="module")
def cod_parcel(tote, admin, shop, ops):  # type: ignore[no-untyped-def]
    """One shipped COD parcel the refusals are tried on (none of them may deliver it)."""
    return shipped(tote, admin, shop, ops, cod())


BAD_COD_DELIVERIES = {
    "another currency": (inr(54_900, "USD"), "cod_collected.currency"),
    "a lower-case currency": (inr(54_900, "inr"), "cod_collected.currency"),
    "an amount without a currency": (inr(54_900, ""), "cod_collected.currency"),
    "a negative amount": (inr(-1), "cod_collected"),
}


@pytest.mark.parametrize("case", BAD_COD_DELIVERIES)
def test_a_cod_delivery_with_bad_cash_is_refused_and_changes_nothing(
        tote, shop, carrier, cod_parcel, case):
    order, tracking = cod_parcel
    cash, field = BAD_COD_DELIVERIES[case]
    before = stored_event_types(tote, order.order_id)
    assert field in refused(carrier, tracking, "delivered", cash)
    nothing_happened(tote, shop, order.order_id, before)


@pytest.mark.parametrize("status", ["in_transit", "out_for_delivery", "failed_attempt"])
def test_cash_is_refused_with_a_status_other_than_delivered(
        tote, shop, carrier, cod_parcel, status):
    order, tracking = cod_parcel
    before = stored_event_types(tote, order.order_id)
    message = refused(carrier, tracking, status, inr(order.total.amount_minor))
    assert "cod_collected" in message and "delivered" in message
    nothing_happened(tote, shop, order.order_id, before)
    # The same scan without cash is an ordinary tracking update.
    assert event(carrier, tracking, status).status == SHIPPED
    assert stored_event_types(tote, order.order_id)[-1] == (
        "Order_Out_for_Delivery" if status == "out_for_delivery" else "Tracking_Updated")


def test_cash_is_refused_on_a_prepaid_parcel_which_is_delivered_without_it(
        tote, admin, shop, ops, carrier):
    order, tracking = shipped(tote, admin, shop, ops, card(sandbox_card(tote.sandbox_url)))
    before = stored_event_types(tote, order.order_id)
    message = refused(carrier, tracking, "delivered", inr(order.total.amount_minor))
    assert "cod_collected" in message and "prepaid" in message
    nothing_happened(tote, shop, order.order_id, before)
    delivered = event(carrier, tracking, "delivered", inr(0))  # "nothing collected" is fine
    assert delivered.status == DELIVERED and delivered.payment.state == "captured"
    assert "Cod_Collected" not in stored_event_types(tote, order.order_id)


def test_a_cod_delivery_without_cash_reported_collects_the_amount_on_the_label(
        tote, admin, shop, ops, carrier):
    order, tracking = shipped(tote, admin, shop, ops, cod())
    collected_before = reconciliation(ops).collected.amount_minor
    delivered = event(carrier, tracking, "delivered")
    assert delivered.status == DELIVERED and delivered.payment.state == "cod_collected"
    assert stored_event_types(tote, order.order_id).count("Cod_Collected") == 1
    rec = reconciliation(ops)
    assert rec.collected.amount_minor - collected_before == order.total.amount_minor
    assert tracking not in {d.tracking_number for d in rec.discrepancies}


def test_a_cod_delivery_with_the_exact_amount_is_collected_without_discrepancy(
        tote, admin, shop, ops, carrier):
    order, tracking = shipped(tote, admin, shop, ops, cod())
    delivered = event(carrier, tracking, "delivered", inr(order.total.amount_minor))
    assert delivered.status == DELIVERED and delivered.payment.state == "cod_collected"
    assert tracking not in {d.tracking_number for d in reconciliation(ops).discrepancies}
    remit(ops, tracking, order.total.amount_minor)
    assert shop.get(order.order_id).payment.state == "settled"
    assert findings(tote) == []


@pytest.mark.parametrize("delta", [-10_000, 500])
def test_a_cod_delivery_with_a_different_amount_is_delivered_and_reported_by_reconciliation(
        tote, admin, shop, ops, carrier, delta):
    order, tracking = shipped(tote, admin, shop, ops, cod())
    due = order.total.amount_minor
    delivered = event(carrier, tracking, "delivered", inr(due + delta))
    assert delivered.status == DELIVERED
    rec = reconciliation(ops)
    mine = [(d.kind, d.expected.amount_minor, d.actual.amount_minor)
            for d in rec.discrepancies if d.tracking_number == tracking]
    kind = "short_collection" if delta < 0 else "excess_collection"
    assert mine == [(kind, due, due + delta)], [d.detail for d in rec.discrepancies]
    # Even when the carrier remits what its courier took, the order is not settled over it.
    remit(ops, tracking, due + delta)
    assert [d.kind for d in reconciliation(ops).discrepancies
            if d.tracking_number == tracking] == [kind]
    assert shop.get(order.order_id).payment.state == "cod_collected"
