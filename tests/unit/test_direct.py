"""Statements run on SQLite's DBAPI connection (core/persistence/direct.py) write and read
exactly what SQLAlchemy's own execution would."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, insert, select

from core.domain.commands import Address, LineRequest, PaymentRequest, PlaceOrder
from core.domain.order import PaymentMethod
from core.persistence.direct import HotStatement
from core.persistence.models import Order, OrderEvent, OrderLine, Product
from core.service import orders

ORDERS = Order.__table__
WHEN = datetime(2026, 12, 5, 7, 28, 42, 123456, tzinfo=UTC)


def _command(key: str = "k-1", method: PaymentMethod = PaymentMethod.UPI) -> PlaceOrder:
    return PlaceOrder(
        storefront="shop", idempotency_key=key, customer_id="c-1",
        lines=(LineRequest("MUG", 2), LineRequest("TEE", 1), LineRequest("MUG", 1)),
        ship_to=Address(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru",
                        postal_code="560001", country="IN", latitude=12.97, longitude=77.6),
        payment=PaymentRequest(method, card_token="tok_1" if method == "card" else "",
                               upi_vpa="a@okbank" if method == "upi" else ""),
        currency="INR")


def test_a_placed_order_reads_back_through_the_orm_as_it_was_written(db):
    settings = orders.OrderSettings()
    with db.write() as s:
        snap, created = orders.place_order(s, _command(), settings, WHEN)
    assert created
    placed = snap.order
    with db.read() as s:
        row = s.get(Order, placed.order_id)
        for column in ORDERS.columns:
            assert getattr(row, column.key) == getattr(placed, column.key), column.key
        # datetimes come back aware and exact; JSON as the dict that was written
        assert row.created_at == WHEN and row.created_at.tzinfo is not None
        assert row.upi_expires_at == WHEN + settings.upi_expiry
        assert row.ship_to["name"] == "Ananya Sharma" and row.ship_to["latitude"] == 12.97
        lines = list(s.scalars(select(OrderLine).where(OrderLine.order_id == placed.order_id)
                               .order_by(OrderLine.line_no)))
        assert [(ln.line_no, ln.sku, ln.quantity, ln.unit_price_minor, ln.weight_grams)
                for ln in lines] == [(1, "MUG", 2, 49_900, 350), (2, "TEE", 1, 79_900, 200),
                                     (3, "MUG", 1, 49_900, 350)]
        assert row.subtotal_minor == 3 * 49_900 + 79_900
        event = s.scalars(select(OrderEvent).where(OrderEvent.order_id == placed.order_id)).one()
        assert (event.type, event.status, event.storefront, event.occurred_at) == (
            "Order_Created", "PENDING", "shop", WHEN)
        assert event.relayed_at is None


def test_a_retry_finds_the_order_by_its_key_and_a_different_body_is_refused(db):
    from core.domain.errors import FailedPrecondition

    settings = orders.OrderSettings()
    with db.write() as s:
        first, _ = orders.place_order(s, _command("k-2"), settings, WHEN)
    with db.write() as s:
        again, created = orders.place_order(s, _command("k-2"), settings,
                                            WHEN + timedelta(seconds=5))
    assert not created and again.order.order_id == first.order.order_id
    assert again.order.created_at == WHEN
    with db.write() as s, pytest.raises(FailedPrecondition, match="k-2"):
        orders.place_order(s, _command("k-2", PaymentMethod.COD), settings, WHEN)


def test_an_unknown_sku_names_its_line_and_writes_nothing(db):
    from core.domain.errors import NotFound

    cmd = _command("k-3")
    cmd = PlaceOrder(**{**{f: getattr(cmd, f) for f in cmd.__dataclass_fields__},
                        "lines": (LineRequest("MUG", 1), LineRequest("NOPE", 1))})
    with pytest.raises(NotFound, match=r"lines\[1\]\.sku 'NOPE'"), db.write() as s:
        orders.place_order(s, cmd, orders.OrderSettings(), WHEN)
    with db.read() as s:
        assert s.query(Order).count() == 0 and s.query(OrderEvent).count() == 0


def test_a_constant_column_default_is_filled_in_and_a_callable_one_must_be_given(db):
    events = OrderEvent.__table__
    # `detail` has the constant default "" in the model: leaving it out is allowed.
    stmt = HotStatement(insert(events), ["order_id", "type", "status", "fc_id", "storefront",
                                         "occurred_at"])
    with db.write() as s:
        stmt.execute(s.connection(), {"order_id": "o-1", "type": "Order_Created",
                                      "status": "PENDING", "fc_id": None,
                                      "storefront": "shop", "occurred_at": WHEN})
    with db.read() as s:
        assert s.scalars(select(OrderEvent)).one().detail == ""
    # Product.updated_at defaults to a Python callable: the statement refuses to guess it.
    products = HotStatement(insert(Product.__table__), ["sku", "name", "gtin",
                                                        "unit_price_minor", "currency",
                                                        "weight_grams"])
    with pytest.raises(ValueError, match="products.updated_at must be given"), \
            db.write() as s:
        products.execute(s.connection(), {"sku": "X", "name": "X", "gtin": "1",
                                          "unit_price_minor": 1, "currency": "INR",
                                          "weight_grams": 1})


def test_a_select_returns_tuples_with_each_columns_result_processing(db):
    stmt = HotStatement(select(Product.__table__.c.sku, Product.__table__.c.updated_at)
                        .where(Product.__table__.c.sku == bindparam("sku")))
    with db.read() as s:
        assert stmt.execute(s.connection(), {"sku": "TEE"}) == [("TEE", WHEN)]
        assert stmt.execute(s.connection(), {"sku": "NONE"}) == []


def test_the_request_hash_of_a_stored_order_does_not_move():
    """Retries compare against hashes already stored: the digest is pinned."""
    cmd = PlaceOrder(
        storefront="shop", idempotency_key="any", customer_id="cust-1",
        lines=(LineRequest("BENCH-SKU", 2), LineRequest("X", 1)),
        ship_to=Address(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru",
                        region="KA", postal_code="560001", country="IN",
                        phone="+919800000001", latitude=12.97, longitude=77.6),
        payment=PaymentRequest(PaymentMethod.CARD, card_token="tok_abc"), currency="INR")
    assert cmd.request_hash() == (
        "38f7391560fad3c3299af93ade5b29492347a19909325e5f8c5711d64d5ec7a8")
    assert set(Address.__dataclass_fields__) == {
        "name", "line1", "line2", "city", "region", "postal_code", "country", "phone",
        "latitude", "longitude"}, "a new Address field must join request_hash"


def test_rows_answer_by_name_and_an_update_takes_its_columns_from_each_call(db):
    from sqlalchemy import update

    from core.persistence.models import StockLevel
    from core.service.catalog import FcData, upsert_fc

    stock = StockLevel.__table__
    with db.write() as s:
        upsert_fc(s, FcData("FC-1", "One", 1.0, 1.0, 16, 10, {}))
        s.add(StockLevel(fc_id="FC-1", sku="MUG", on_hand=5, soft_locked=0, hard_locked=0,
                         received_total=5, bin=""))
    take = HotStatement(update(stock).where(
        stock.c.fc_id == bindparam("fc"), stock.c.sku == bindparam("s"),
        stock.c.on_hand - stock.c.soft_locked >= bindparam("q"))
        .values(soft_locked=stock.c.soft_locked + bindparam("q")))
    set_bin = HotStatement(update(stock).where(stock.c.sku == bindparam("_sku")))
    read = HotStatement(select(stock.c.sku, stock.c.soft_locked, stock.c.bin)
                        .where(stock.c.sku == bindparam("sku")))
    with db.write() as s:
        conn = s.connection()
        assert take.rowcount(conn, {"fc": "FC-1", "s": "MUG", "q": 4}) == 1
        assert take.rowcount(conn, {"fc": "FC-1", "s": "MUG", "q": 2}) == 0  # only 1 left
        set_bin.execute(conn, {"_sku": "MUG", "bin": "A-01"})
        set_bin.execute(conn, {"_sku": "MUG", "bin": "B-02", "soft_locked": 3})
        (row,) = read.execute(conn, {"sku": "MUG"})
    assert (row.sku, row.soft_locked, row.bin) == ("MUG", 3, "B-02")
    assert row._asdict() == {"sku": "MUG", "soft_locked": 3, "bin": "B-02"}


def test_an_expanding_in_is_refused_with_what_to_do_instead(db):
    stmt = HotStatement(select(Product.__table__.c.sku).where(
        Product.__table__.c.sku.in_(bindparam("skus", expanding=True))))
    with pytest.raises(ValueError, match="one value at a time"), db.read() as s:
        stmt.execute(s.connection(), {"skus": ["MUG"]})


def test_a_saga_state_crosses_to_another_process_unchanged():
    import pickle

    from core.domain.money import Money
    from core.domain.order import InventoryState, OrderStatus, PaymentMethod, PaymentState
    from core.domain.saga import Decision, SagaState

    for state in (
        SagaState("ord_1", OrderStatus.PENDING, InventoryState.PENDING,
                  PaymentState.AUTHORIZING, PaymentMethod.CARD, False,
                  Money(1234, "INR"), "tok_1", None, None, None, None),
        SagaState("ord_2", OrderStatus.CANCELLED, InventoryState.RELEASED,
                  PaymentState.INTENT_PENDING, PaymentMethod.UPI, True,
                  Money(5, "USD"), None, "pay_9", "upi_2", "a@okbank", WHEN),
    ):
        again = pickle.loads(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        assert again == state
        assert type(again.status) is OrderStatus and type(again.decision) is Decision


def test_a_value_written_into_the_statement_needs_no_parameter_and_a_repeated_one_binds_once(db):
    products = Product.__table__
    stmt = HotStatement(select(products.c.sku).where(
        products.c.sku == bindparam("sku"), products.c.currency == "INR",
        products.c.sku != bindparam("sku") + "-not"))
    with db.read() as s:
        assert stmt.execute(s.connection(), {"sku": "TEE"}) == [("TEE",)]
        with pytest.raises(KeyError, match="sku"):
            stmt.execute(s.connection(), {})
