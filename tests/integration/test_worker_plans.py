"""The background workers' scans on SQLite as tote leaves the file (no ANALYZE statistics): each
reaches its rows through an index, in the order it asks for them, whatever the history.

They run in SQLite's one writer (the packing worker's claim twice a second, the saga scan) or
beside it (the tracking poll), and a statement there that reads every shipment or order ever
made queues every PlaceOrder behind it as the history grows: the packing claim did, 110-190 ms
at a million orders (docs/operations.md, "Measured"). SQLite's planner without statistics
chooses by the schema alone, so the plan on an empty migrated file is the plan it makes at a
million orders: EXPLAIN QUERY PLAN tells whether an index serves the statement without
building the million. How fast they are there is bench/data_growth.py's business.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.domain.packing_commands import ClaimStuckPackings
from core.domain.saga_commands import ClaimDueSagas
from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.repos import routing as routing_repo
from core.service import shipping
from core.service.bus import handle
from core.service.deps import Deps, HandlerConfig

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
# A step that reads every row of a big table (or of a whole index of it), and one that sorts
# what it read to hand it over in order.
SCAN = re.compile(r"^SCAN (orders|shipments|order_events|pick_lines)"
                  r"(?: USING (?:COVERING )?INDEX (\w+))?")
SORTED = "USE TEMP B-TREE FOR ORDER BY"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'tote.db'}"
    migrate.upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def statements_of(db: Database, call: Callable[[Session], object]) -> list[str]:
    """The SQL that `call` runs in a write transaction, its parameters in place (SQLite's trace
    callback: tote's hot statements run on the driver's connection and fire no SQLAlchemy
    event)."""
    seen: list[str] = []

    def checkout(dbapi_conn, record, proxy):  # type: ignore[no-untyped-def]
        dbapi_conn.set_trace_callback(seen.append)

    def checkin(dbapi_conn, record):  # type: ignore[no-untyped-def]
        if dbapi_conn is not None:
            dbapi_conn.set_trace_callback(None)

    event.listen(db.write_engine, "checkout", checkout)
    event.listen(db.write_engine, "checkin", checkin)
    try:
        db.run_write(call)
    finally:
        event.remove(db.write_engine, "checkout", checkout)
        event.remove(db.write_engine, "checkin", checkin)
    queries = [q for q in seen if q.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))]
    assert queries, "the call ran no statement"
    return queries


def plan(db: Database, sql: str) -> list[str]:
    """EXPLAIN QUERY PLAN's steps, e.g. "SEARCH shipments USING INDEX … (status=?)"."""
    with db.read_engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        return [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql)]


def partial_indexes(db: Database) -> set[str]:
    """The indexes with a WHERE: scanning one reads only the rows it holds."""
    with db.read_engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        tables = [row[0] for row in raw.execute("SELECT name FROM sqlite_master "
                                                "WHERE type = 'table'")]
        return {row[1] for table in tables
                for row in raw.execute("SELECT * FROM pragma_index_list(?)", (table,))
                if row[4]}


def assert_indexed(db: Database, call: Callable[[Session], object], *,
                   ordered: bool = True) -> None:
    """No statement of the call reads a whole big table, nor sorts (when `ordered`)."""
    partial = partial_indexes(db)
    for sql in statements_of(db, call):
        steps = plan(db, sql)
        where = f"{sql}\n" + "\n".join(steps)
        for step in steps:
            scan = SCAN.match(step)
            assert scan is None or scan.group(2) in partial, where
        if ordered:
            assert SORTED not in steps, where


def test_the_packing_claim_reads_the_shipments_left_packing_through_an_index(db):
    deps = Deps.for_process(HandlerConfig())
    # The first pass after a start takes every one; later passes those idle past the lease.
    assert_indexed(db, lambda s: handle(s, ClaimStuckPackings(None, NOW), deps))
    assert_indexed(db, lambda s: handle(s, ClaimStuckPackings(NOW - LEASE, NOW), deps))


def test_the_tracking_poll_reads_the_parcels_on_their_way_through_an_index(db):
    assert_indexed(db, shipping.due_for_polling)  # as server/tracking.py reads it


def test_the_saga_scan_and_the_routing_backlog_stay_indexed(db):
    deps = Deps.for_process(HandlerConfig())
    assert_indexed(db, lambda s: handle(s, ClaimDueSagas(NOW, LEASE, 200), deps))
    # Grouped, not ordered: its sort is of the open shipments it counts, a few per FC.
    assert_indexed(db, lambda s: routing_repo.backlog(s.connection()), ordered=False)
