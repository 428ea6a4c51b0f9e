"""server/fields.py: one table limits every string of every tote.v1 request, within the column
it goes to, and the walk refuses a card number, an over-long value or a bad phone, naming the
field and never echoing the value."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor
from sqlalchemy import String

from core.persistence import fulfillment_models, models
from server.fields import GTIN, PHONE, RULES, Rule, check_request, check_string, string_fields
from tests.card_spellings import seeded_gtins, seeded_phones
from tests.protos import PROTO_FILES
from tote.v1 import common_pb2, fulfillment_pb2, orders_pb2, shipping_pb2


def request_types() -> list[Descriptor]:
    return [m.input_type for f in PROTO_FILES for s in f.services_by_name.values()
            for m in s.methods]


def test_every_string_of_every_request_has_a_rule_and_every_rule_a_field() -> None:
    names = {f.full_name for desc in request_types() for f in string_fields(desc)}
    assert sorted(names - RULES.keys()) == []
    assert sorted(RULES.keys() - names) == []


def _columns() -> dict[str, object]:
    tables = {**models.Base.metadata.tables, **fulfillment_models.Base.metadata.tables}
    return {f"{t.name}.{c.name}": c.type for t in tables.values() for c in t.columns}


@pytest.mark.parametrize("name", sorted(n for n, r in RULES.items() if r.column))
def test_a_limit_never_exceeds_its_column(name: str) -> None:
    rule = RULES[name]
    kind = _columns()[str(rule.column)]
    assert isinstance(kind, String)
    assert kind.length is None or rule.limit <= kind.length, (name, rule, kind.length)


def test_one_over_the_limit_is_refused_naming_the_field_and_the_limit() -> None:
    error = check_request(shipping_pb2.RecordTrackingEventRequest(location="x" * 201))
    assert error is not None and error.field == "location"
    assert error.message == "location is 201 characters long; at most 200 are accepted"
    assert check_request(shipping_pb2.RecordTrackingEventRequest(location="x" * 200)) is None
    nested = orders_pb2.PlaceOrderRequest(ship_to=common_pb2.Address(line1="y" * 257))
    assert check_request(nested).field == "ship_to.line1"  # type: ignore[union-attr]


@pytest.mark.parametrize("request_, field", [
    (orders_pb2.CancelOrderRequest(order_id="o", reason="card 4242.4242.4242.4242"), "reason"),
    (orders_pb2.PlaceOrderRequest(payment=common_pb2.PaymentMethod(
        upi=common_pb2.UpiPayment(vpa="4242424242424242@upi"))), "payment.upi.vpa"),
    (orders_pb2.PlaceOrderRequest(lines=[common_pb2.OrderLine(sku="a"), common_pb2.OrderLine(
        sku="x4242424242424242")]), "lines[1].sku"),
    (shipping_pb2.HandOffRequest(tracking_numbers=["TT1", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"]),
     "tracking_numbers[1]"),
    (fulfillment_pb2.ScanItemRequest(barcode="4242424242424242"), "barcode"),
])
def test_a_card_number_anywhere_is_refused_naming_the_field(request_, field) -> None:  # type: ignore[no-untyped-def]
    error = check_request(request_)
    assert error is not None and error.field == field
    assert error.message == f"{field} looks like a card number; send the gateway's token"
    assert "4242" not in error.message


def test_phones_are_checked_as_e164_so_a_real_one_is_never_a_card() -> None:
    rule = Rule(32, kind=PHONE)
    assert [p for p in seeded_phones(5_000) if check_string("phone", p, rule)] == []
    assert check_string("phone", "", rule) is None
    for bad in ("9800000001", "+91 98000", "+4242424242424242", "call me"):
        error = check_string("ship_to.phone", bad, rule)
        assert error is not None and "E.164" in error.message, bad


def test_gtin_shaped_barcodes_are_left_to_the_gtin_rules() -> None:
    rule = Rule(64, kind=GTIN)
    assert [g for g in seeded_gtins(8_000) if check_string("barcode", g, rule)] == []
    # A wrong check digit that makes a Luhn-valid 13 digits: the catalog says "check digit".
    assert check_string("product.gtin", "4006381333932", rule) is None
    assert check_string("barcode", "4242424242424242", rule) is not None
    assert check_string("barcode", "x4006381333931", rule) is None  # (not a card: a GTIN)
