"""Bad requests get API.md's status code and a message naming the field, and leave nothing
behind: no order, no stock moved, no card number anywhere on disk or in the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import MetaData, create_engine, select

from core.persistence.db import normalize_url
from tests.harness import Client, address, card, cod, place_request, unique
from tote.v1 import catalog_pb2, common_pb2, inventory_pb2, orders_pb2

MB = "x" * 1_000_000
CARD = "4242424242424242"
CARD_SPACED = "4242 4242 4242 4242"
CARD_DASHED = "4242-4242-4242-4242"


@pytest.fixture(scope="module")
def sku(admin) -> str:  # type: ignore[no-untyped-def]
    """A product with 5 units at FC-BLR, priced 499.00, 350 g."""
    sku = unique("MUG")
    admin.product(sku, price_minor=49_900, weight_grams=350)
    admin.receive("FC-BLR", sku, 5)
    return sku


def all_order_ids(admin: Client) -> set[str]:
    ids: set[str] = set()
    token = ""
    while True:
        reply = admin.orders.ListOrders(orders_pb2.ListOrdersRequest(page_size=500,
                                                                      page_token=token),
                                        metadata=admin.metadata)
        ids |= {o.order_id for o in reply.orders}
        token = reply.next_page_token
        if not token:
            return ids


def refused(client: Client, request, code: grpc.StatusCode) -> str:  # type: ignore[no-untyped-def]
    """PlaceOrder must fail with `code`; returns the message."""
    with pytest.raises(grpc.RpcError) as exc:
        client.orders.PlaceOrder(request, metadata=client.metadata)
    assert exc.value.code() == code, exc.value.details()
    return exc.value.details()


def cancel(client: Client, order_id: str) -> None:
    """Cancel a test's good order so the stock is whole again for the next test."""
    order = client.orders.CancelOrder(orders_pb2.CancelOrderRequest(
        order_id=order_id, reason="test cleanup"), metadata=client.metadata)
    assert order.status == common_pb2.ORDER_STATUS_CANCELLED, order.cancel_reason


def request_with(sku: str, **changes) -> orders_pb2.PlaceOrderRequest:  # type: ignore[no-untyped-def]
    """A good COD order of one unit, then `changes` applied (callables get the request)."""
    request = place_request([(sku, 1)], cod())
    for name, change in changes.items():
        change(request) if callable(change) else setattr(request, name, change)
    return request


def _lines(*lines: tuple[str, int]) -> Callable[[orders_pb2.PlaceOrderRequest], None]:
    def change(r: orders_pb2.PlaceOrderRequest) -> None:
        del r.lines[:]
        r.lines.extend(common_pb2.OrderLine(sku=s, quantity=q) for s, q in lines)
    return change


def _ship_to(**fields) -> Callable[[orders_pb2.PlaceOrderRequest], None]:  # type: ignore[no-untyped-def]
    def change(r: orders_pb2.PlaceOrderRequest) -> None:
        r.ship_to.CopyFrom(address(**fields))
    return change


def _payment(method: common_pb2.PaymentMethod | None):  # type: ignore[no-untyped-def]
    def change(r: orders_pb2.PlaceOrderRequest) -> None:
        r.ClearField("payment")
        if method is not None:
            r.payment.CopyFrom(method)
    return change


INVALID, NOT_FOUND = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
# case: (changes to a good request, given the module's SKU; the status; the field named)
CASES: dict[str, tuple[Callable[[str], dict], grpc.StatusCode, str]] = {  # type: ignore[type-arg]
    "empty lines": (lambda sku: dict(lines=_lines()), INVALID, "lines"),
    "quantity 0": (lambda sku: dict(lines=_lines((sku, 0))), INVALID, "lines[0].quantity"),
    "quantity -1": (lambda sku: dict(lines=_lines((sku, 1), (sku, -1))), INVALID,
                    "lines[1].quantity"),
    "missing idempotency_key": (lambda sku: dict(idempotency_key=""), INVALID,
                                "idempotency_key"),
    "missing payment": (lambda sku: dict(payment=_payment(None)), INVALID, "payment"),
    "unknown sku": (lambda sku: dict(lines=_lines((sku, 1), ("NO-SUCH-SKU", 1))), NOT_FOUND,
                    "lines[1].sku"),
    "10,000 lines": (lambda sku: dict(lines=_lines(*[(sku, 1)] * 10_000)), INVALID, "lines"),
    "1 MB customer_id": (lambda sku: dict(customer_id=MB), INVALID, "customer_id"),
    "1 MB ship_to.name": (lambda sku: dict(ship_to=_ship_to(name=MB)), INVALID,
                          "ship_to.name"),
    "1 MB sku": (lambda sku: dict(lines=_lines((MB, 1))), INVALID, "lines[0].sku"),
    "missing ship_to": (lambda sku: dict(ship_to=lambda r: r.ClearField("ship_to")), INVALID,
                        "ship_to.name"),
    "card number as card token": (lambda sku: dict(payment=_payment(card(CARD))), INVALID,
                                  "payment.card.token"),
    "spaced card number as card token": (lambda sku: dict(payment=_payment(card(CARD_SPACED))),
                                         INVALID, "payment.card.token"),
    "dashed card number as card token": (lambda sku: dict(payment=_payment(card(CARD_DASHED))),
                                         INVALID, "payment.card.token"),
    "card number as customer_id": (lambda sku: dict(customer_id=CARD), INVALID, "customer_id"),
    "card number as idempotency_key": (lambda sku: dict(idempotency_key=CARD_SPACED), INVALID,
                                       "idempotency_key"),
    "card number in ship_to.line2": (
        lambda sku: dict(ship_to=_ship_to(line2=f"card {CARD_SPACED}")), INVALID,
        "ship_to.line2"),
}


def bad_request(case: str, sku: str) -> orders_pb2.PlaceOrderRequest:
    return request_with(sku, **CASES[case][0](sku))


@pytest.mark.parametrize("case", CASES)
def test_bad_place_order_is_refused_naming_the_field_and_stores_nothing(admin, shop, sku, case):
    _, code, field = CASES[case]
    before_orders, before_stock = all_order_ids(admin), admin.stock(sku)
    message = refused(shop, bad_request(case, sku), code)
    assert field in message
    assert len(message) < 1_000  # a 1 MB value is not echoed back
    assert CARD not in message.replace(" ", "").replace("-", "")
    assert all_order_ids(admin) == before_orders
    assert admin.stock(sku) == before_stock == (5, 0, 5)


def test_the_same_request_without_the_fault_is_accepted(admin, shop, sku):
    # The cases above fail for their fault alone: the base request is a good order.
    placed = shop.orders.PlaceOrder(request_with(sku), metadata=shop.metadata)
    assert placed.status == common_pb2.ORDER_STATUS_PENDING
    assert placed.order_id in all_order_ids(admin)
    cancel(shop, placed.order_id)
    assert admin.stock(sku) == (5, 0, 5)


# --- card numbers never reach the disk or the log -------------------------------------------


def database_text(db_url: str) -> str:
    """Every value of every row of every table, as text (any backend)."""
    engine = create_engine(normalize_url(db_url))
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return "\n".join(repr(tuple(row)) for table in meta.sorted_tables
                             for row in conn.execute(select(table)))
    finally:
        engine.dispose()


def sqlite_files(db_url: str) -> list[Path]:
    if "://" in db_url and not db_url.startswith("sqlite"):
        return []
    path = Path(db_url.removeprefix("sqlite:///"))
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]


def test_a_refused_card_number_is_nowhere_in_the_database_files_or_the_log(
        tote, admin, shop, sku):
    for case in ("card number as card token", "spaced card number as card token",
                 "dashed card number as card token", "card number as customer_id",
                 "card number as idempotency_key", "card number in ship_to.line2"):
        refused(shop, bad_request(case, sku), CASES[case][1])
    # Good orders around them, so the database and the log really have been written.
    placed = shop.orders.PlaceOrder(request_with(sku, customer_id="cust-card-check"),
                                    metadata=shop.metadata)
    needles = [n.encode() for n in (CARD, CARD_SPACED, CARD_DASHED, "4242424242")]
    files = sqlite_files(tote.db_url)
    for path in files:
        data = path.read_bytes()
        squeezed = data.replace(b" ", b"").replace(b"-", b"")
        assert [n for n in needles if n in data or n in squeezed] == [], path
    text = database_text(tote.db_url)
    assert placed.order_id in text and "cust-card-check" in text
    assert [n for n in needles if n.decode() in text.replace(" ", "").replace("-", "")] == []
    log = tote.log_path.read_bytes()
    assert placed.order_id.encode() in log  # the log does hold what happened
    squeezed_log = log.replace(b" ", b"").replace(b"-", b"")
    assert [n for n in needles if n in log or n in squeezed_log] == []
    if not tote.db_url.startswith("postgresql"):
        assert files, "no SQLite file found to search"
    cancel(shop, placed.order_id)
    assert admin.stock(sku) == (5, 0, 5)


# --- prices come from the catalog -----------------------------------------------------------


def test_prices_and_totals_sent_by_a_client_are_ignored(admin, shop, sku):
    request = request_with(sku, lines=_lines((sku, 2)))
    for line in request.lines:
        line.unit_price.CopyFrom(common_pb2.Money(amount_minor=1, currency="USD"))
    placed = shop.orders.PlaceOrder(request, metadata=shop.metadata)
    assert [(ln.unit_price.amount_minor, ln.unit_price.currency) for ln in placed.lines] == [
        (49_900, "INR")]
    # 2 × 499.00 + the fee for 700 g (the 2000 g band: 70.00)
    assert placed.total == common_pb2.Money(amount_minor=2 * 49_900 + 7_000, currency="INR")
    stored = shop.get(placed.order_id)
    assert stored.lines[0].unit_price.amount_minor == 49_900
    assert stored.total.amount_minor == 2 * 49_900 + 7_000
    # A retry differing only in the ignored price is the same request: the same order.
    for line in request.lines:
        line.unit_price.amount_minor = -5
    again = shop.orders.PlaceOrder(request, metadata=shop.metadata)
    assert again.order_id == placed.order_id
    cancel(shop, placed.order_id)
    assert admin.stock(sku) == (5, 0, 5)


# --- catalog and inventory ------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog_refusal(admin) -> Iterator[Callable[..., str]]:  # type: ignore[no-untyped-def]
    def refusal(call, request, code: grpc.StatusCode) -> str:  # type: ignore[no-untyped-def]
        with pytest.raises(grpc.RpcError) as exc:
            call(request, metadata=admin.metadata)
        assert exc.value.code() == code, exc.value.details()
        return exc.value.details()
    yield refusal


def product(sku: str, gtin: str) -> catalog_pb2.UpsertProductRequest:
    return catalog_pb2.UpsertProductRequest(product=common_pb2.Product(
        sku=sku, name="Mug", gtin=gtin, weight_grams=350,
        unit_price=common_pb2.Money(amount_minor=100, currency="INR")))


@pytest.mark.parametrize("gtin", ["4006381333932", "4006381333930", "5901234123458"])
def test_a_gtin_with_a_wrong_check_digit_is_refused_naming_product_gtin(
        admin, catalog_refusal, gtin):
    sku = unique("GT")
    message = catalog_refusal(admin.catalog.UpsertProduct, product(sku, gtin), INVALID)
    assert "product.gtin" in message and "check digit" in message
    catalog_refusal(admin.catalog.GetProduct, catalog_pb2.GetProductRequest(sku=sku), NOT_FOUND)
    ok = admin.catalog.UpsertProduct(product(sku, "4006381333931"), metadata=admin.metadata)
    assert ok.gtin == "4006381333931"


def test_receiving_stock_at_an_unknown_fc_is_not_found(admin, catalog_refusal, sku):
    message = catalog_refusal(admin.inventory.ReceiveStock, inventory_pb2.ReceiveStockRequest(
        fc_id="FC-NOWHERE", sku=sku, quantity=1), NOT_FOUND)
    assert "FC-NOWHERE" in message
    assert admin.stock(sku) == (5, 0, 5)


def test_receiving_stock_of_an_unknown_sku_is_not_found(admin, catalog_refusal):
    message = catalog_refusal(admin.inventory.ReceiveStock, inventory_pb2.ReceiveStockRequest(
        fc_id="FC-BLR", sku="NO-SUCH-SKU", quantity=1), NOT_FOUND)
    assert "NO-SUCH-SKU" in message
    assert admin.stock("NO-SUCH-SKU") == (0, 0, 0)


@pytest.mark.parametrize("quantity", [0, -1])
def test_receiving_no_or_negative_stock_is_invalid_naming_quantity(
        admin, catalog_refusal, sku, quantity):
    message = catalog_refusal(admin.inventory.ReceiveStock, inventory_pb2.ReceiveStockRequest(
        fc_id="FC-BLR", sku=sku, quantity=quantity), INVALID)
    assert "quantity" in message
    assert admin.stock(sku) == (5, 0, 5)
