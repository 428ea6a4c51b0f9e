"""server/decode.py: the parser every RPC gets never raises, and refuses NUL in any text."""

from __future__ import annotations

from server.decode import Refused, input_type, safe_parser
from server.fields import check_request as nul_in_text
from tote.v1 import common_pb2, fulfillment_pb2, orders_pb2

PLACE = "/tote.v1.OrderService/PlaceOrder"
ROUTE = "/tote.v1.FulfillmentService/ExplainRouting"


def test_the_request_type_is_read_from_the_method_path() -> None:
    assert input_type(PLACE) == "tote.v1.PlaceOrderRequest"
    assert input_type("/tote.v1.NoSuchService/Nothing") == "request"


def test_bytes_that_do_not_parse_become_a_refusal_naming_the_message() -> None:
    parse = safe_parser(PLACE, orders_pb2.PlaceOrderRequest.FromString)
    assert parse is not None
    for raw in (b"\x0a\xff", b"\x0a\x03\xff\xfe\xfd", b"\x00", b"\x0c"):
        refused = parse(raw)
        assert isinstance(refused, Refused), raw
        assert refused.error.message.startswith(
            "request is not a valid tote.v1.PlaceOrderRequest message: "), refused.error.message
    good = orders_pb2.PlaceOrderRequest(customer_id="c-1").SerializeToString()
    assert parse(good) == orders_pb2.PlaceOrderRequest(customer_id="c-1")


def test_a_handler_that_takes_bytes_keeps_them() -> None:
    assert safe_parser(PLACE, None) is None


def test_nul_is_found_in_nested_repeated_and_map_fields_and_named() -> None:
    order = orders_pb2.PlaceOrderRequest(lines=[common_pb2.OrderLine(sku="ok"),
                                                common_pb2.OrderLine(sku="a\x00b")])
    error = nul_in_text(order)
    assert error is not None and error.field == "lines[1].sku"
    assert nul_in_text(orders_pb2.PlaceOrderRequest(ship_to=common_pb2.Address(
        city="\x00"))).field == "ship_to.city"  # type: ignore[union-attr]  # asserted non-None
    candidate = fulfillment_pb2.RoutingCandidate(factors={"dist\x00": 1.0})
    assert nul_in_text(candidate).field == "factors"  # type: ignore[union-attr]
    assert nul_in_text(orders_pb2.PlaceOrderRequest(customer_id="no nul here")) is None


def test_a_request_with_nul_in_text_is_refused_but_a_zero_byte_elsewhere_is_not() -> None:
    parse = safe_parser(ROUTE, fulfillment_pb2.ExplainRoutingRequest.FromString)
    assert parse is not None
    refused = parse(fulfillment_pb2.ExplainRoutingRequest(order_id="o\x00").SerializeToString())
    assert isinstance(refused, Refused) and refused.error.field == "order_id"
    # A zero byte that is a number, not text (an empty nested message has length 0).
    place = safe_parser(PLACE, orders_pb2.PlaceOrderRequest.FromString)
    assert place is not None
    cod = orders_pb2.PlaceOrderRequest(payment=common_pb2.PaymentMethod(
        cod=common_pb2.CashOnDelivery()))
    assert b"\x00" in cod.SerializeToString()
    assert place(cod.SerializeToString()) == cod
