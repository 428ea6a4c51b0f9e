"""A fulfillment center's return address: validated when given, printed as the label's sender,
and required before anything from that FC is labelled (FAILED_PRECONDITION, nothing changes).
Also migration 0005, which makes "no address" NULL, up and down."""

from __future__ import annotations

import json

import grpc
import pytest
from sqlalchemy import create_engine, inspect, text

from core.persistence import migrate
from core.persistence.db import normalize_url
from tests.conftest import database_at
from tests.harness import Client, ledger, unique
from tests.integration.test_documents import PACKING_SLIP, document, named_item, text_of
from tests.integration.test_picking import next_task, picker, ready_order, refused, scan
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2 as fpb
from tote.v1 import shipping_pb2

RETURNS = pb.Address(name="Tote Returns Desk", line1="Plot 42, Peenya Phase 2",
                     line2="Gate 3", city="Bengaluru", region="KA", postal_code="560058",
                     country="IN", phone="+918012345678")
REQUIRED = ("name", "line1", "city", "postal_code", "country")


def upsert_fc(admin: Client, fc_id: str, address: pb.Address | None = None) -> pb.FulfillmentCenter:
    fc = pb.FulfillmentCenter(fc_id=fc_id, name=f"Hub {fc_id}", latitude=12.97,
                              longitude=77.59, cutoff_hour=16, daily_capacity=1000)
    if address is not None:
        fc.address.CopyFrom(address)
    return admin.fulfillment.UpsertFulfillmentCenter(
        fpb.UpsertFulfillmentCenterRequest(fc=fc), metadata=admin.metadata)


def listed(admin: Client, fc_id: str) -> pb.FulfillmentCenter | None:
    fcs = admin.fulfillment.ListFulfillmentCenters(fpb.ListFulfillmentCentersRequest(),
                                                   metadata=admin.metadata).fcs
    return next((fc for fc in fcs if fc.fc_id == fc_id), None)


def set_address_null(db_url: str, fc_id: str) -> None:
    """An FC as one created before FCs had addresses is after migration 0005."""
    engine = create_engine(normalize_url(db_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE fulfillment_centers SET address = NULL WHERE fc_id = :f"),
                         {"f": fc_id})
    finally:
        engine.dispose()


@pytest.mark.parametrize("missing", REQUIRED)
def test_an_address_without_a_required_field_is_refused_naming_it(admin, missing):
    fc_id = unique("FC")
    address = pb.Address()
    address.CopyFrom(RETURNS)
    address.ClearField(missing)
    message = refused(lambda: upsert_fc(admin, fc_id, address),
                      grpc.StatusCode.INVALID_ARGUMENT)
    assert f"fc.address.{missing}" in message
    assert listed(admin, fc_id) is None  # refused: nothing stored


def test_an_fc_keeps_its_address_when_an_update_leaves_it_out(admin):
    fc_id = unique("FC")
    assert not upsert_fc(admin, fc_id).HasField("address")
    assert not listed(admin, fc_id).HasField("address")  # type: ignore[union-attr]
    assert upsert_fc(admin, fc_id, RETURNS).address == RETURNS
    upsert_fc(admin, fc_id)  # e.g. a new cut-off hour, no address in the request
    assert listed(admin, fc_id).address == RETURNS  # type: ignore[union-attr]


def test_no_label_without_a_return_address_then_the_label_sends_from_it(tote, admin, shop):
    fc_id = unique("FC")
    upsert_fc(admin, fc_id)
    sku, gtin = named_item(admin, fc_id, "Copper bottle", "A-02-1")
    order_id = ready_order(shop, [(sku, 1)])
    p = picker(tote, fc_id)
    scan(p, next_task(p, fc_id).task_id, gtin)
    pack = fpb.PackOrderRequest(order_id=order_id, weight_grams=400 + 250, box="M")
    before = shop.get(order_id)

    message = refused(lambda: p.fulfillment.PackOrder(pack, metadata=p.metadata, timeout=60),
                      grpc.StatusCode.FAILED_PRECONDITION)
    assert message == (f"fulfillment center {fc_id} has no return address: set it with "
                       "UpsertFulfillmentCenter(fc.address) before printing labels there")
    assert shop.get(order_id) == before  # nothing captured, booked or packed
    assert [e["kind"] for e in ledger(tote.sandbox_url, order_id)] == []

    upsert_fc(admin, fc_id, RETURNS)
    packed = p.fulfillment.PackOrder(pack, metadata=p.metadata, timeout=60)
    assert packed.order.status == pb.ORDER_STATUS_PACKED, packed.order.cancel_reason
    words = text_of(packed.label.content)
    for expected in ("FROM Tote Returns Desk", "Plot 42, Peenya Phase 2, Gate 3",
                     "Bengaluru", "560058"):
        assert expected in words, (expected, words)
    assert "warehouse" not in words
    ops = tote.client(tote.token("supervisor", unique("ops")))
    zpl = ops.shipping.GetLabel(shipping_pb2.GetLabelRequest(
        order_id=order_id, format=pb.LABEL_FORMAT_ZPL), metadata=ops.metadata).content.decode()
    assert "Tote Returns Desk" in zpl and "Plot 42, Peenya Phase 2" in zpl
    slip = text_of(document(ops, order_id, PACKING_SLIP).content)
    assert "Tote Returns Desk" in slip and "Plot 42, Peenya Phase 2" in slip

    # An FC that comes out of migration 0005 without an address: its stored labels named a
    # made-up sender, so they are not handed out again until it has one.
    set_address_null(tote.db_url, fc_id)
    for call in (lambda: ops.shipping.GetLabel(shipping_pb2.GetLabelRequest(
                     order_id=order_id), metadata=ops.metadata),
                 lambda: document(ops, order_id, PACKING_SLIP)):
        assert f"fulfillment center {fc_id} has no return address" in refused(
            call, grpc.StatusCode.FAILED_PRECONDITION)


# --- migration 0005 -------------------------------------------------------------------------


db_at_0004 = database_at("0004")


def test_migration_0005_turns_blank_addresses_into_null_and_back(db_at_0004):
    blank = ('{"name": "", "line1": "", "line2": "", "city": "", "region": "", '
             '"postal_code": "", "country": "", "phone": "", "latitude": 0.0, "longitude": 0.0}')
    real = '{"name": "Returns", "line1": "1 Road", "city": "Pune", "postal_code": "411001", ' \
           '"country": "IN"}'
    engine = create_engine(normalize_url(db_at_0004))
    try:
        with engine.begin() as conn:
            for fc_id, address in (("FC-EMPTY", "{}"), ("FC-BLANK", blank), ("FC-REAL", real)):
                conn.execute(text(
                    "INSERT INTO fulfillment_centers (fc_id, name, latitude, longitude, "
                    "cutoff_hour, daily_capacity, address, confirm_bin_scan) VALUES "
                    "(:f, :f, 1.0, 2.0, 16, 10, :a, false)"), {"f": fc_id, "a": address})

        def addresses() -> dict[str, object]:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT fc_id, address FROM fulfillment_centers"))
                # SQLite hands JSON back as text, PostgreSQL as Python values
                return {r[0]: json.loads(r[1]) if isinstance(r[1], str) else r[1]
                        for r in rows}

        def nullable() -> bool:
            cols = inspect(engine).get_columns("fulfillment_centers")
            return next(c for c in cols if c["name"] == "address")["nullable"]

        assert not nullable()
        migrate.upgrade(db_at_0004, "0005")
        got = addresses()
        assert nullable()
        assert got["FC-EMPTY"] is None and got["FC-BLANK"] is None
        assert got["FC-REAL"]["city"] == "Pune"  # type: ignore[index]

        migrate.downgrade(db_at_0004, "0004")
        got = addresses()
        assert not nullable()
        assert got == {"FC-EMPTY": {}, "FC-BLANK": {}, "FC-REAL": json.loads(real)}
        migrate.upgrade(db_at_0004)
        migrate.check(db_at_0004)
    finally:
        engine.dispose()
