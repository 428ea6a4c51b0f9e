"""QuoteOrder shows what PlaceOrder would authorize, stores and locks nothing, and refuses what
PlaceOrder refuses with the same status code (over real gRPC, against the real sandbox)."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import create_engine, func, select

from core.persistence.db import normalize_url
from core.persistence.models import Order, OrderEvent, SoftLock, StockLevel
from tests.harness import Client, card, cod, ledger, place_request, sandbox_card, unique, upi
from tests.integration.test_bad_input import CASES, request_with
from tote.v1 import common_pb2, orders_pb2

# The default rate table: up to 500 g costs 4000, up to 2000 g 7000.
SHIPPING_2_UNITS = 7_000  # 2 x 600 g
ONE_UNIT_FEE = 7_000  # 600 g


@pytest.fixture(scope="module")
def sku(admin) -> str:  # type: ignore[no-untyped-def]
    """A product with 5 units at FC-BLR, priced 1,234.50, 600 g."""
    sku = unique("LAMP")
    admin.product(sku, price_minor=123_450, weight_grams=600)
    admin.receive("FC-BLR", sku, 5)
    return sku


def quote_of(client: Client, place: orders_pb2.PlaceOrderRequest) -> orders_pb2.Quote:
    # QuoteOrderRequest keeps PlaceOrderRequest's field numbers: a checkout can send the
    # bytes of the order it is about to place (the idempotency key is ignored).
    request = orders_pb2.QuoteOrderRequest.FromString(place.SerializeToString())
    return client.orders.QuoteOrder(request, metadata=client.metadata)


def _counts(db_url: str) -> dict[str, int]:
    engine = create_engine(normalize_url(db_url))
    try:
        with engine.connect() as conn:
            return {
                "orders": conn.scalar(select(func.count()).select_from(Order)) or 0,
                "events": conn.scalar(select(func.count()).select_from(OrderEvent)) or 0,
                "soft_locks": conn.scalar(select(func.count()).select_from(SoftLock)) or 0,
                "soft_locked": conn.scalar(select(func.coalesce(
                    func.sum(StockLevel.soft_locked), 0))) or 0,
            }
    finally:
        engine.dispose()


def test_a_quote_stores_nothing_and_locks_nothing(tote, admin, shop, sku):
    # First in the module: no order exists yet, so nothing else can move these counts.
    before = _counts(tote.db_url)
    for payment in (card(sandbox_card(tote.sandbox_url)), upi(), cod()):
        quote = quote_of(shop, place_request([(sku, 2)], payment))
        assert quote.total.amount_minor > 0
    assert _counts(tote.db_url) == before
    assert before["orders"] == 0 and before["soft_locked"] == 0
    assert admin.stock(sku) == (5, 0, 5)
    assert ledger(tote.sandbox_url) == []  # the gateway was never called


def test_the_quote_prices_lines_and_shipping_from_the_catalog(shop, sku):
    quote = quote_of(shop, place_request([(sku, 2)], cod()))
    assert [(ln.sku, ln.quantity, ln.unit_price.amount_minor, ln.unit_price.currency)
            for ln in quote.lines] == [(sku, 2, 123_450, "INR")]
    assert quote.subtotal == common_pb2.Money(amount_minor=246_900, currency="INR")
    assert quote.shipping_fee == common_pb2.Money(amount_minor=SHIPPING_2_UNITS, currency="INR")
    assert quote.total == common_pb2.Money(amount_minor=246_900 + SHIPPING_2_UNITS,
                                           currency="INR")
    assert quote.weight_grams == 1_200


def test_the_quote_is_what_place_order_then_authorizes_at_the_gateway(tote, shop, sku):
    request = place_request([(sku, 2)], card(sandbox_card(tote.sandbox_url)))
    quote = quote_of(shop, request)
    order = shop.place([(sku, 2)], request.payment, key=request.idempotency_key)
    assert order.total == quote.total
    assert order.shipping_fee == quote.shipping_fee
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in order.lines] == [
        (ln.sku, ln.quantity, ln.unit_price) for ln in quote.lines]
    done = shop.wait_status(order.order_id, {common_pb2.ORDER_STATUS_PROCESSING,
                                             common_pb2.ORDER_STATUS_CANCELLED}, 60)
    assert done.status == common_pb2.ORDER_STATUS_PROCESSING, done.cancel_reason
    assert done.payment.authorized == quote.total
    holds = [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "authorization"]
    assert [(e["amount_minor"], e["currency"]) for e in holds] == [
        (quote.total.amount_minor, quote.total.currency)]
    shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=order.order_id,
                                                          reason="test cleanup"),
                            metadata=shop.metadata)


def test_a_cash_on_delivery_quote_is_the_cash_to_collect(shop, sku):
    quote = quote_of(shop, place_request([(sku, 1)], cod()))
    order = shop.place([(sku, 1)], cod())
    assert order.payment.authorized == quote.total == order.total
    shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=order.order_id,
                                                          reason="test cleanup"),
                            metadata=shop.metadata)


def test_a_quote_needs_no_idempotency_key_nor_customer(shop, sku):
    request = orders_pb2.QuoteOrderRequest(
        lines=[common_pb2.OrderLine(sku=sku, quantity=1)], currency="INR",
        ship_to=place_request([], cod()).ship_to, payment=cod())
    quote = shop.orders.QuoteOrder(request, metadata=shop.metadata)
    assert quote.total.amount_minor == 123_450 + ONE_UNIT_FEE


# Every refusal of PlaceOrder's bad-input table that does not concern the idempotency key,
# plus the refusals that come from pricing (currency, COD limit).
QUOTE_CASES = [c for c in CASES if "idempotency_key" not in c]


def _code(call, request):  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        call(request)
    return exc.value.code(), exc.value.details()


@pytest.mark.parametrize("case", [*QUOTE_CASES, "order in USD", "COD over the limit"])
def test_a_bad_quote_is_refused_as_place_order_refuses_it(shop, sku, case):
    if case == "order in USD":
        request = request_with(sku, currency="USD")
    elif case == "COD over the limit":  # the module's server takes COD up to 20,000.00
        request = request_with(sku, lines=lambda r: r.lines[0].__setattr__("quantity", 17))
    else:
        request = request_with(sku, **CASES[case][0](sku))
    place = _code(lambda r: shop.orders.PlaceOrder(r, metadata=shop.metadata), request)
    quote = _code(lambda r: quote_of(shop, r), request)
    assert quote == place
    assert quote[0] in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("role", ["picker", "carrier"])
def test_only_storefronts_and_supervisors_may_quote(tote, sku, role):
    client = tote.client(tote.token(role, unique(role)))
    try:
        code, message = _code(lambda r: quote_of(client, r), request_with(sku))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "storefront" in message and "supervisor" in message
    finally:
        client.close()
    supervisor = tote.client(tote.token("supervisor", unique("ops")))
    try:
        assert quote_of(supervisor, request_with(sku)).total.amount_minor == 123_450 + ONE_UNIT_FEE
    finally:
        supervisor.close()
