"""An order's writes on PostgreSQL, in round trips: each use case asks first for every row it
will read (HotStatement.soon), so a transaction waits on the server once per decision it must
make, not once per statement. Counted in libpq's trace of the protocol (one ReadyForQuery per
round trip); each figure was one or more higher before the reads went together."""

from collections.abc import Iterator

import pytest

from core.domain.commands import Address, LineRequest, PaymentRequest, PlaceOrder
from core.domain.order import InventoryState, OrderStatus, PaymentMethod
from core.persistence.db import Database
from core.persistence.models import Base, FulfillmentCenter, Product, StockLevel
from core.service import orders, saga_steps
from tests.unit.conftest import WHEN
from tests.unit.test_pg_pipeline import _RoundTrips

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    with database.write() as s:
        for table in ("routing_decisions", "pick_lines", "shipments", "soft_locks",
                      "order_events", "order_lines", "orders", "stock_levels",
                      "fulfillment_centers", "products"):
            s.execute(Base.metadata.tables[table].delete())
        s.add(Product(sku="MUG", name="Mug", gtin="4006381333931", unit_price_minor=49_900,
                      currency="INR", weight_grams=350, updated_at=WHEN))
        s.add(Product(sku="TEE", name="Tee", gtin="4006381333948", unit_price_minor=79_900,
                      currency="INR", weight_grams=200, updated_at=WHEN))
        s.flush()
        s.add(FulfillmentCenter(fc_id="FC-BLR", name="Bengaluru", latitude=12.97,
                                longitude=77.59, cutoff_hour=14, daily_capacity=1000))
        s.flush()
        for sku in ("MUG", "TEE"):
            s.add(StockLevel(fc_id="FC-BLR", sku=sku, on_hand=10, soft_locked=0,
                             hard_locked=0, bin="A-01"))
    yield database
    database.dispose()


def _place(db: Database) -> tuple[str, int]:
    cmd = PlaceOrder(
        storefront="shop", idempotency_key="k-1", customer_id="c-1",
        lines=(LineRequest("MUG", 2), LineRequest("TEE", 1)),
        ship_to=Address(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru",
                        postal_code="560001", country="IN", latitude=12.97, longitude=77.6),
        payment=PaymentRequest(PaymentMethod.CARD, card_token="tok_1"), currency="INR")
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
        snap, created = orders.place_order(s, cmd, orders.OrderSettings(), WHEN)
    assert created
    return snap.order.order_id, trips.count()


def test_placing_an_order_reads_its_key_and_every_price_in_one_round_trip(db):
    _order_id, trips = _place(db)
    # the key and both prices (one trip; was three), then the inserts with COMMIT
    assert trips == 2


def test_locking_inventory_reads_the_order_and_all_routing_needs_in_one_round_trip(db):
    order_id, _ = _place(db)
    with db.write() as s:
        saga_steps.lock_inventory(s, order_id, WHEN)  # routing's backlog counted (uncached)
    order_id2 = _place_another(db)
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
        state = saga_steps.lock_inventory(s, order_id2, WHEN,
                                          backlog=_warm_backlog(db))
    assert state is not None and state.inventory == InventoryState.LOCKED
    # the order under lock with its lines, their stock and the FCs (was four trips); one
    # conditional update per SKU taken; the writes with COMMIT
    assert trips.count() == 1 + 2 + 1


def test_authorizing_the_payment_of_a_locked_order_makes_it_ready_in_one_round_trip(db):
    order_id, _ = _place(db)
    with db.write() as s:
        saga_steps.lock_inventory(s, order_id, WHEN)
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
        state = saga_steps.payment_authorized(s, order_id, "auth_1", 149_700, WHEN, "held")
    assert state is not None and state.status == OrderStatus.PROCESSING
    # the order under lock with its prices and soft locks for the pick lines (was three
    # trips); the writes with COMMIT
    assert trips.count() == 1 + 1


def _place_another(db: Database) -> str:
    cmd = PlaceOrder(
        storefront="shop", idempotency_key="k-2", customer_id="c-1",
        lines=(LineRequest("MUG", 1), LineRequest("TEE", 1)),
        ship_to=Address(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru",
                        postal_code="560001", country="IN", latitude=12.97, longitude=77.6),
        payment=PaymentRequest(PaymentMethod.CARD, card_token="tok_1"), currency="INR")
    with db.write() as s:
        snap, _ = orders.place_order(s, cmd, orders.OrderSettings(), WHEN)
    return snap.order.order_id


def _warm_backlog(db: Database):  # type: ignore[no-untyped-def]
    """A backlog cache already counted (as the saga's is, between its counts)."""
    from core.service.routing import BacklogCache

    cache = BacklogCache(ttl_s=3600)
    with db.read() as s:
        cache.counts(s.connection())
    return cache


def test_reads_sent_with_the_order_lock_see_what_the_lock_waited_for(db):
    """The reads asked for with the order's lock are answered after the lock is held: a
    payment answered while another transaction is soft-locking the same order (it holds the
    order's row) waits for it, then queues pick lines for the soft locks it committed — not
    for none, as reads answered before the lock would."""
    import threading
    import time

    from sqlalchemy import select

    from core.persistence.fulfillment_models import PickLine

    order_id, _ = _place(db)
    outcome: list[object] = []
    backend: list[int] = []  # the payment's server process
    with db.write() as s:
        saga_steps.lock_inventory(s, order_id, WHEN)  # holds the order's row until COMMIT

        def authorize() -> None:
            try:
                with db.write() as s2:
                    backend.append(s2.connection().connection.driver_connection.info.backend_pid)
                    outcome.append(saga_steps.payment_authorized(s2, order_id, "auth_1",
                                                                 149_700, WHEN, "held"))
            except Exception as exc:  # reported below
                outcome.append(exc)

        waiter = threading.Thread(target=authorize)
        waiter.start()
        deadline = time.monotonic() + 30
        while not _waits_on_a_lock(db, backend):  # until the payment waits on the order
            assert time.monotonic() < deadline, "the payment never waited for the lock"
    waiter.join(30)
    state = outcome[0]
    assert not isinstance(state, Exception), state
    assert state is not None and state.status == OrderStatus.PROCESSING
    with db.read() as s:
        lines = s.scalars(select(PickLine).where(PickLine.order_id == order_id)).all()
    assert sorted((ln.sku, ln.quantity) for ln in lines) == [("MUG", 2), ("TEE", 1)]


def _waits_on_a_lock(db: Database, backend: list[int]) -> bool:
    from sqlalchemy import text

    if not backend:
        return False
    with db.read() as r:
        return bool(r.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid "
                                   "AND wait_event_type = 'Lock'"), {"pid": backend[0]}).scalar())
