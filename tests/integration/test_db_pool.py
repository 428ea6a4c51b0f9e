"""How many PostgreSQL connections a replica holds: never more than --db-pool-size under
concurrent load (and no call waits on the pool until it fails), the ones a burst opened closed
again once idle, and every transaction bounded by the statement and idle-in-transaction
timeouts (docs/operations.md, "Connections and PgBouncer")."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from core.persistence import pg_engine
from core.persistence.db import Database
from core.persistence.pg_engine import DbOptions
from tests.conftest import migrated_pg_database
from tests.harness import ToteServer, card, sandbox_card, unique
from tests.pg_probe import ConnectionSampler, admin, tote_backends, wait_until
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

pytestmark = pytest.mark.postgres
PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


@pytest.fixture(scope="module")
def database(pg_server) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A migrated database of this module's own: (URL, name)."""
    with migrated_pg_database(pg_server) as url:
        yield url, url.rsplit("/", 1)[1]


@pytest.mark.slow
def test_a_replica_never_holds_more_connections_than_its_pool_size_under_load(
        database, tmp_path):  # type: ignore[no-untyped-def]
    url, name = database
    tote = ToteServer(url, tmp_path, args=["--db-pool-size", "3"]).start()
    try:
        admin_client = tote.client(tote.token("admin", "ops"))
        shop = tote.client(tote.token("storefront", "shop-a"))
        admin_client.fc("FC-POOL")
        sku = unique("POOL")
        admin_client.product(sku)
        admin_client.receive("FC-POOL", sku, 1000)
        token = sandbox_card(tote.sandbox_url)
        # The tokens above came through a Database of the harness's own (also named tote):
        # it is closed, so from here on every tote connection on this database is the replica's.
        sampler = ConnectionSampler(name)
        placed: list[str] = []
        failures: list[BaseException] = []

        def customer() -> None:
            try:
                for _ in range(4):
                    order = shop.place([(sku, 1)], card(token))
                    placed.append(order.order_id)
                    shop.get(order.order_id)
            except BaseException as exc:  # the assertion below names it
                failures.append(exc)

        watch = shop.orders.WatchOrders(orders_pb2.WatchOrdersRequest(), metadata=shop.metadata)
        customers = [threading.Thread(target=customer) for _ in range(24)]
        for t in customers:
            t.start()
        for t in customers:
            t.join(120)
        assert not failures, failures[:3]  # no call timed out waiting for a connection
        for order_id in placed:
            assert shop.wait_status(order_id, {PROCESSING, CANCELLED}).status == PROCESSING
        watch.cancel()
        most = sampler.stop()
        assert sampler.samples > 10
        assert 1 <= most <= 3, f"the replica held {most} connections with --db-pool-size 3"
        assert "QueuePool limit" not in tote.log_path.read_text()
        admin_client.close()
        shop.close()
    finally:
        tote.terminate()


def test_an_idle_pool_closes_the_connections_a_burst_opened(database, monkeypatch):  # type: ignore[no-untyped-def]
    url, name = database
    # The sweep's real thread, on a short clock (30 s idle and a sweep every 10 s in service).
    monkeypatch.setattr(pg_engine, "_SWEEP_EVERY_S", 0.1)
    monkeypatch.setattr(pg_engine, "IDLE_CLOSE_S", 0.5)
    db = Database(url, options=DbOptions(pool_size=5))
    probe = admin()

    def burst() -> int:
        """Five transactions at once; how many tote connections there were meanwhile."""
        arrived, counted = threading.Barrier(6), threading.Event()

        def hold(session) -> None:  # type: ignore[no-untyped-def]
            session.execute(text("SELECT 1"))  # (its connection is checked out from here)
            arrived.wait(30)
            counted.wait(30)

        threads = [threading.Thread(target=db.run_read, args=(hold,)) for _ in range(5)]
        for t in threads:
            t.start()
        arrived.wait(30)
        seen = len(tote_backends(probe, name))
        counted.set()
        for t in threads:
            t.join(30)
        return seen

    try:
        assert burst() == 5

        def only_the_one_in_use_is_left() -> bool:
            # A light load (one transaction at a time) keeps reusing one connection (LIFO).
            db.run_read(lambda s: s.execute(text("SELECT 1")).scalar())
            return len(tote_backends(probe, name)) == 1

        wait_until(only_the_one_in_use_is_left, "the idle connections were closed")
        assert burst() == 5  # and a burst opens them again
    finally:
        probe.close()
        db.dispose()


def test_every_transaction_carries_the_timeouts_and_the_name_tote(database):  # type: ignore[no-untyped-def]
    url, _name = database
    db = Database(url, options=DbOptions(statement_timeout_s=1.5,
                                         idle_in_transaction_timeout_s=7))
    try:
        for run in (db.run_read, db.run_write):
            assert run(lambda s: tuple(s.execute(text(
                "SELECT current_setting('statement_timeout'), "
                "current_setting('idle_in_transaction_session_timeout'), "
                "current_setting('application_name')")).one())) == ("1500ms", "7s", "tote")
    finally:
        db.dispose()


def test_a_statement_past_the_timeout_is_cancelled_and_says_so(database):  # type: ignore[no-untyped-def]
    url, _name = database
    db = Database(url, options=DbOptions(statement_timeout_s=0.2))
    try:
        with pytest.raises(pg_engine.StatementTimedOut, match="--db-statement-timeout-s"):
            db.run_read(lambda s: s.execute(text("SELECT pg_sleep(30)")).scalar())
        assert db.run_read(lambda s: s.execute(text("SELECT 1")).scalar()) == 1
    finally:
        db.dispose()
