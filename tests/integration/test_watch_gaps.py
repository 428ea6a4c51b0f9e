"""PostgreSQL hands out event ids at insert, not at commit: event X may become visible after
X+1. The hub's ring must then never offer a resume point at or above X while X is missing,
and X must still reach the watcher once it commits (server/hub.py), on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from core.persistence import migrate
from core.persistence.db import Database
from server.dbexec import DbExecutor
from server.hub import Behind, EventHub
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


def test_a_resume_point_never_passes_an_event_not_yet_committed(pg_url):
    async def main() -> None:
        db = Database(pg_url)
        dbx = DbExecutor(db)
        hub = EventHub(dbx, interval_s=0.02, buffer_events=3)
        await hub.start()
        slow, fast = _connect(pg_url), _connect(pg_url)
        try:
            sub = await hub.subscribe(None)
            late = _insert(slow, "ord_late")  # not committed yet: a gap for the hub
            early = [_insert(fast, f"ord_{i}") for i in range(2)]
            fast.commit()
            assert early[0] > late
            first = await asyncio.wait_for(hub.next(sub), 10)
            assert first.event_id == early[0]
            assert first.safe == late - 1  # everything up to here, but not `late`
            # Four more, one at a time, read by another watcher as they come: the ring (3)
            # passes the first watcher while `late` is still missing.
            watcher = await hub.subscribe(None)
            more = []
            for i in range(4):
                more.append(_insert(fast, f"ord_m{i}"))
                fast.commit()
                assert (await asyncio.wait_for(hub.next(watcher), 10)).event_id == more[-1]
            with pytest.raises(Behind) as behind:
                await hub.next(sub)
            assert behind.value.resume_after == late - 1
            # Once `late` commits, it is dispatched after all (out of id order).
            slow.commit()
            filled = await asyncio.wait_for(hub.next(watcher), 10)
            assert filled.event_id == late
            assert filled.safe >= more[-1]  # nothing missing any more
        finally:
            slow.close()
            fast.close()
            await hub.stop()
            dbx.shutdown()
            db.dispose()

    asyncio.run(main())
