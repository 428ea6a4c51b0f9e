"""SQLite query plans of tote's real statements, as tote leaves the file (no ANALYZE
statistics): its planner then chooses by the schema alone, so the plan on an empty migrated file
is the plan it makes at a million orders. Used by the *_plans tests."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.persistence.db import Database

# A step that reads every row of a big table (or of a whole index of it), and one that sorts
# what it read to hand it over in order.
SCAN = re.compile(r"^SCAN (orders|shipments|order_events|pick_lines)"
                  r"(?: USING (?:COVERING )?INDEX (\w+))?")
SORTED = "USE TEMP B-TREE FOR ORDER BY"


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
    """EXPLAIN QUERY PLAN's steps, e.g. "SEARCH shipments USING INDEX … (updated_at<?)"."""
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
