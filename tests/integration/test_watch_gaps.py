"""PostgreSQL hands out event ids at insert, not at commit: event X may become visible after
X+1. The hub then holds X+1 back until X commits (or its transaction rolls back), so the
events it sends are in id order and the last one a watcher saw is a resume point that misses
nothing (server/hub.py, core/service/event_order.py), on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from core.persistence import migrate
from core.persistence.db import Database
from server.dbexec import DbExecutor
from server.hub import EventHub
from tests.conftest import drop_pg_database, fresh_pg_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    url, name = fresh_pg_database(pg_server)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_pg_database(name)


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def _insert(conn: psycopg.Connection, order_id: str) -> int:
    row = conn.execute(
        "INSERT INTO order_events (order_id, type, status, detail, fc_id, storefront, "
        "occurred_at) VALUES (%s, 'Order_Created', 'PENDING', '', NULL, 'shop', %s) "
        "RETURNING event_id", (order_id, datetime.now(UTC))).fetchone()
    assert row is not None
    return int(row[0])


def test_no_event_is_sent_before_an_id_below_it_commits_or_rolls_back(pg_url):
    async def main() -> None:
        db = Database(pg_url)
        dbx = DbExecutor(db)
        hub = EventHub(dbx, interval_s=0.02, buffer_events=3)
        hub.GAP_PATIENCE_S = 3600  # a rolled-back id is known by its transaction's end alone
        await hub.start()
        slow, fast = _connect(pg_url), _connect(pg_url)
        try:
            sub = await hub.subscribe(None)
            late = _insert(slow, "ord_late")  # not committed yet: a gap for the hub
            early = [_insert(fast, f"ord_{i}") for i in range(2)]
            fast.commit()
            assert early[0] > late
            # The hub reads the two committed events and holds them back behind `late`: a
            # watcher shown them could resume after them and never see `late`.
            while hub._last_id != early[-1]:
                await asyncio.sleep(0.01)
            assert sub.cursor == hub._next_seq  # nothing dispatched
            slow.commit()
            got = [await asyncio.wait_for(hub.next(sub), 10) for _ in range(3)]
            assert [e.event_id for e in got] == [late, *early]
            assert [e.safe for e in got] == [late, *early]
            # An id whose transaction rolled back never comes: the events after it go out
            # once that transaction has ended, not after the hub's patience.
            dead = _insert(slow, "ord_dead")
            after = _insert(fast, "ord_after")
            fast.commit()
            slow.rollback()
            assert after > dead
            entry = await asyncio.wait_for(hub.next(sub), 30)
            assert entry.event_id == after
        finally:
            slow.close()
            fast.close()
            await hub.stop()
            dbx.shutdown()
            db.dispose()

    asyncio.run(main())
