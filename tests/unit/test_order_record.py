"""The order record (core/persistence/repos/orders.py): a status changes only as the state
machine allows from the status the order really has, and saving writes what changed."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.domain.commands import Address, LineRequest, PaymentRequest, PlaceOrder
from core.domain.errors import FailedPrecondition
from core.domain.order import OrderStatus, PaymentMethod
from core.persistence.models import Order
from core.persistence.repos import orders as repo
from core.service import orders

WHEN = datetime(2026, 12, 5, 7, 28, 42, 123456, tzinfo=UTC)


def _place(db, key: str = "k-1") -> str:  # type: ignore[no-untyped-def]
    cmd = PlaceOrder(
        storefront="shop", idempotency_key=key, customer_id="c-1",
        lines=(LineRequest("MUG", 2),),
        ship_to=Address(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru",
                        postal_code="560001", country="IN"),
        payment=PaymentRequest(PaymentMethod.CARD, card_token="tok_1"), currency="INR")
    with db.write() as s:
        snap, _ = orders.place_order(s, cmd, orders.OrderSettings(), WHEN)
    return snap.order.order_id


def test_an_illegal_transition_from_the_orders_real_status_is_refused(db):
    order_id = _place(db)
    with db.write() as s:
        order = repo.lock(s.connection(), order_id)
        assert order is not None and order.status == OrderStatus.PENDING
        # PENDING may not jump to PACKED, whatever a caller believes the status to be.
        with pytest.raises(FailedPrecondition, match="from PENDING to PACKED"):
            order.transition(OrderStatus.PACKED)
        assert order.status == OrderStatus.PENDING
        order.transition(OrderStatus.PROCESSING)
        assert order.status == OrderStatus.PROCESSING
        with pytest.raises(FailedPrecondition, match="from PROCESSING to PENDING"):
            order.transition(OrderStatus.PENDING)


def test_saving_a_record_writes_the_columns_changed_since_it_was_read(db):
    order_id = _place(db)
    later = WHEN + timedelta(minutes=1)
    with db.write() as s:
        order = repo.lock(s.connection(), order_id)
        assert order is not None
        order.transition(OrderStatus.PROCESSING)
        order.updated_at, order.fc_id = later, "FC-1"
        repo.save(s.connection(), order)
        assert order.stored[repo.COLUMNS.index("status")] == OrderStatus.PROCESSING
        repo.save(s.connection(), order)  # nothing changed since: nothing to write
    with db.read() as s:
        row = s.scalars(select(Order).where(Order.order_id == order_id)).one()
        assert (row.status, row.fc_id, row.updated_at) == ("PROCESSING", "FC-1", later)
        assert row.created_at == WHEN and row.payment_token == "tok_1"
        assert repo.of_model(row) == repo.read(s.connection(), order_id)


def test_a_record_crosses_to_the_writer_process_with_its_values_once(db):
    """PlaceOrder's answer crosses from the writer process (server/dbwriter/wire.py): the
    record's values go once; what it remembers of its own transaction (`stored`) stays."""
    import pickle

    from server.dbwriter import wire

    order_id = _place(db)
    with db.read() as s:
        order = repo.read(s.connection(), order_id)
    assert order is not None
    again = wire.loads(wire.dumps(order))
    assert again == order  # (compare=False: `stored` is not compared)
    assert again.stored == ()
    assert len(wire.dumps(order)) < 1.3 * len(pickle.dumps(order.stored))


def test_the_orm_order_checks_its_own_status_too():
    from core.domain.order import may_become

    order = Order(status=OrderStatus.DELIVERED)
    with pytest.raises(FailedPrecondition, match="from DELIVERED to SHIPPED"):
        order.transition(OrderStatus.SHIPPED)
    assert order.status == OrderStatus.DELIVERED
    order.status = OrderStatus.PACKED
    order.transition(OrderStatus.SHIPPED)
    assert order.status == OrderStatus.SHIPPED
    # What picking's compare-and-set lets become PICKING: the state machine's answer.
    assert may_become(OrderStatus.PICKING) == {OrderStatus.PROCESSING}
