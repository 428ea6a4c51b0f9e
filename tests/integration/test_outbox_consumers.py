"""Outbox consumers (core/service/outbox.py, server/outbox.py): a table consumer is handed
every event committed after it started exactly once, in id order — through a real `tote
serve` on each backend, across a SIGKILL mid-stream, with two PostgreSQL replicas (one of
them killed), and when PostgreSQL commits a lower event id after a higher one."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import psycopg
import pytest

from core.domain.outbox_commands import OpenConsumers
from core.persistence.db import Database
from core.service.deps import HandlerConfig
from server.dbexec import DbExecutor
from server.outbox import TableConsumer
from tests.conftest import migrated_database, migrated_pg_database
from tests.harness import Client, ToteServer, cod, unique
from tests.outbox_consumer import (
    NAME,
    SPEC,
    create_table,
    effects,
    event_ids,
    position,
    unfinished_orders,
)

pytestmark = pytest.mark.slow
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ARGS = ["--outbox-interval-s", "0.2", "--saga-lease-s", "2"]


def _serve(url: str, workdir: Path) -> ToteServer:
    workdir.mkdir(exist_ok=True)
    return ToteServer(url, workdir, module="tests.outbox_serve", args=ARGS).start()


def _stock(admin: Client, units: int) -> str:
    admin.fc("FC-BLR")
    sku = unique("OUT")
    admin.product(sku)
    admin.receive("FC-BLR", sku, units)
    return sku


def _wait_all_handled(url: str, start: int, timeout_s: float = 60) -> None:
    """Until every saga has ended (no event is still to come) and the consumer's position
    has reached the newest event."""
    deadline = time.monotonic() + timeout_s
    while True:
        busy = unfinished_orders(url)
        ids = event_ids(url, start)
        at = position(url) or 0
        if not busy and ids and at >= ids[-1]:
            return
        assert time.monotonic() < deadline, f"consumer at {at}, events up to {ids[-1:]}"
        time.sleep(0.05)


def _behind(url: str, start: int) -> bool:
    """The consumer has events to handle: its position is below the newest event."""
    at, ids = position(url), event_ids(url, start)
    return at is not None and bool(ids) and at < ids[-1]


def _place_until(client: Client, sku: str, stop: threading.Event, placed: list[str]) -> None:
    """About 50 PlaceOrder (COD) a second until `stop`, or until the server is gone."""
    while not stop.wait(0.02):
        try:
            placed.append(client.place([(sku, 1)], cod(), unique("k")).order_id)
        except grpc.RpcError:
            return


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with migrated_database(request, tmp_path) as made:
        create_table(made)
        yield made


def test_a_table_consumer_gets_every_event_once_across_a_sigkill_mid_stream(url, tmp_path):
    first = _serve(url, tmp_path / "a")
    start = position(url)
    assert start is not None  # opened at the start, before any order
    admin = first.client(first.token("admin", "ops"))
    sku = _stock(admin, 10_000)
    stop, placed = threading.Event(), []
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(_place_until, admin, sku, stop, placed)
        # Killed while orders arrive and the consumer is under way, behind them. (On SQLite
        # the writer process may still finish the batch it was given: the restart must then
        # hand over none of it again.)
        deadline = time.monotonic() + 60
        while len(effects(url)) < 30 or not _behind(url, start):
            assert time.monotonic() < deadline, "the consumer never was under way"
            time.sleep(0.01)
        first.kill()
        stop.set()
    admin.close()
    second = _serve(url, tmp_path / "b")
    with closing(second.client(second.token("admin", "ops"))) as admin2:
        for _ in range(5):
            admin2.place([(sku, 1)], cod(), unique("k"))
        _wait_all_handled(url, start)
    second.terminate()
    assert effects(url) == event_ids(url, start)  # each once: no event lost, none twice


@pytest.mark.postgres
def test_two_replicas_hand_each_event_to_one_of_them_and_a_killed_one_hands_over(
        pg_server, tmp_path):
    with migrated_pg_database(pg_server) as url:
        create_table(url)
        a, b = _serve(url, tmp_path / "a"), _serve(url, tmp_path / "b")
        start = position(url)
        assert start is not None
        shop_a, shop_b = a.client(a.token("admin", "ops")), b.client(b.token("admin", "ops"))
        sku = _stock(shop_a, 10_000)
        stop, placed = threading.Event(), []
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for client in (shop_a, shop_a, shop_b, shop_b):
                pool.submit(_place_until, client, sku, stop, placed)
            deadline = time.monotonic() + 60
            while len(effects(url)) < 30:
                assert time.monotonic() < deadline, "the consumer handled nothing"
                time.sleep(0.02)
            a.kill()  # whichever holds the lease, its consumer's work must go on
            before = len(event_ids(url, start))
            deadline = time.monotonic() + 60
            while len(event_ids(url, start)) < before + 20:  # orders go on through B meanwhile
                assert time.monotonic() < deadline, "no order went through B after A died"
                time.sleep(0.02)
            stop.set()
        shop_a.close()
        for _ in range(5):
            shop_b.place([(sku, 1)], cod(), unique("k"))
        _wait_all_handled(url, start, timeout_s=90)
        shop_b.close()
        b.terminate()
        assert effects(url) == event_ids(url, start)


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def _insert(conn: psycopg.Connection, order_id: str) -> int:
    row = conn.execute(
        "INSERT INTO order_events (order_id, type, status, detail, fc_id, storefront, "
        "occurred_at) VALUES (%s, 'Order_Created', 'PENDING', '', NULL, 'shop', %s) "
        "RETURNING event_id", (order_id, datetime.now(UTC))).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.postgres
def test_a_lower_event_id_committed_after_a_higher_one_is_handed_over_once(pg_server):
    with migrated_pg_database(pg_server) as url:
        create_table(url)

        async def main() -> None:
            db = Database(url)
            dbx = DbExecutor(db, config=HandlerConfig(extra_consumers=(SPEC,)))
            consumer = TableConsumer(dbx, NAME, interval_s=3600, lease=timedelta(seconds=15))
            await dbx.execute(OpenConsumers((NAME,), datetime.now(UTC)))
            await consumer.lease.start()  # (run_once only: no task of its own)
            slow, fast = _connect(url), _connect(url)
            try:
                late = _insert(slow, "ord_late")  # its transaction held open
                early = [_insert(fast, f"ord_{i}") for i in range(2)]
                fast.commit()
                assert early[0] > late
                await consumer.run_once()
                # The higher ids wait behind the lower one still uncommitted.
                assert effects(url) == []
                assert [gap for gap, _ in consumer.gaps] == [late]
                slow.commit()
                await consumer.run_once()
                assert effects(url) == [late, *early]
                assert position(url) == early[-1]
                # An id whose transaction rolled back never comes: the events after it are
                # handed over once that transaction has ended.
                dead = _insert(slow, "ord_dead")
                after = _insert(fast, "ord_after")
                fast.commit()
                await consumer.run_once()
                assert effects(url) == [late, *early]
                slow.rollback()
                await consumer.run_once()
                assert effects(url) == [late, *early, after]
                assert position(url) == after > dead
                assert consumer.gaps == ()
            finally:
                slow.close()
                fast.close()
                await consumer.lease.stop()
                dbx.shutdown()
                db.dispose()

        asyncio.run(main())
