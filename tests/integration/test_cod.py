"""COD remittances against the cash collected: each seeded fault reported once, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import update

from core.persistence.db import Database
from core.persistence.fulfillment_models import Shipment
from tests.harness import Client, cod
from tests.integration.test_shipping import (
    findings,
    hand_off,
    pick_and_pack,
    ready_order,
    stored_event_types,
    track,
)
from tote.v1 import common_pb2 as pb
from tote.v1 import shipping_pb2


def remit(ops: Client, reference: str, amount: int, *tracking: str) -> shipping_pb2.CodRemittance:
    return ops.shipping.RecordCodRemittance(shipping_pb2.RecordCodRemittanceRequest(
        carrier="sandbox", reference=reference, tracking_numbers=list(tracking),
        amount=pb.Money(amount_minor=amount, currency="INR")), metadata=ops.metadata)


def shipped_cod_parcel(tote, admin, shop, ops):  # type: ignore[no-untyped-def]
    order, _ = ready_order(tote, admin, shop, cod(), units=1)
    tracking = pick_and_pack(tote, order.order_id, units=1)
    hand_off(ops, tracking)
    return order, tracking


def test_reconciliation_reports_exactly_the_seeded_discrepancies(tote, admin, shop, ops,
                                                                 carrier):
    parcels = {name: shipped_cod_parcel(tote, admin, shop, ops) for name in "ABCDEFG"}
    due = {name: order.total.amount_minor for name, (order, _) in parcels.items()}
    tn = {name: t for name, (_, t) in parcels.items()}
    for name in "ABCDFG":  # E stays on its way
        assert track(carrier, tn[name], "delivered", cod_minor=due[name]).status == \
            pb.ORDER_STATUS_DELIVERED
    db = Database(tote.db_url)
    try:  # F was delivered eight days ago and its cash never came
        eight_days_ago = datetime.now(UTC) - timedelta(days=8)
        db.run_write(lambda s: s.execute(update(Shipment).where(
            Shipment.tracking_number == tn["F"]).values(delivered_at=eight_days_ago)))
    finally:
        db.dispose()

    first = remit(ops, "NEFT-1", due["A"] + due["B"], tn["A"], tn["B"])
    assert remit(ops, "NEFT-1", due["A"] + due["B"], tn["A"], tn["B"]).remittance_id == \
        first.remittance_id  # the same transfer recorded twice is one remittance
    with pytest.raises(grpc.RpcError) as clash:
        remit(ops, "NEFT-1", 1, tn["A"])
    assert clash.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    remit(ops, "NEFT-2", due["C"] - 1_000, tn["C"])            # short
    remit(ops, "NEFT-3", due["D"] + 500, tn["D"])              # excess
    remit(ops, "NEFT-4", 0, tn["E"], "TT9999999999")           # not delivered, unknown
    remit(ops, "NEFT-5", due["A"], tn["A"])                    # A again

    rec = ops.shipping.GetCodReconciliation(shipping_pb2.GetCodReconciliationRequest(
        carrier="sandbox"), metadata=ops.metadata)
    found = sorted((d.kind, d.tracking_number, d.expected.amount_minor, d.actual.amount_minor)
                   for d in rec.discrepancies)
    assert found == sorted([
        ("short_remittance", tn["C"], due["C"], due["C"] - 1_000),
        ("excess_remittance", tn["D"], due["D"], due["D"] + 500),
        ("not_delivered", tn["E"], 0, 0),
        ("unknown_parcel", "TT9999999999", 0, 0),
        ("double_remittance", tn["A"], 0, due["A"]),
        ("collected_not_remitted", tn["F"], due["F"], 0),
    ]), [d.detail for d in rec.discrepancies]
    delivered = sum(due[n] for n in "ABCDFG")
    assert (rec.expected.amount_minor, rec.collected.amount_minor) == (delivered, delivered)
    assert rec.remitted.amount_minor == (2 * due["A"] + due["B"] + due["C"] - 1_000
                                         + due["D"] + 500)
    assert rec.expected.currency == "INR"

    # A and B were remitted in full before anything went wrong: settled; C and D are not.
    for name, state in (("A", "settled"), ("B", "settled"), ("C", "cod_collected"),
                        ("D", "cod_collected"), ("G", "cod_collected")):
        assert shop.get(parcels[name][0].order_id).payment.state == state, name
    types = stored_event_types(tote, parcels["A"][0].order_id)
    assert types.count("Cod_Remitted") == 2 and types.count("Payment_Settled") == 1
    assert findings(tote) == []


def test_a_remittance_names_its_parcels_and_money(tote, ops):
    with pytest.raises(grpc.RpcError) as empty:
        remit(ops, "NEFT-9", 100)
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as negative:
        remit(ops, "NEFT-9", -1, "TT0000000009")
    assert negative.value.code() == grpc.StatusCode.INVALID_ARGUMENT
