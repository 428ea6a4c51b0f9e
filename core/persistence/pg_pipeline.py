"""Fewer round trips to PostgreSQL: statements nobody reads back wait, then go in one pipeline.

An order costs about thirty statements in three transactions, and each statement sent alone
is a round trip: a send, the server woken, an answer, the caller woken — on a machine whose
cores tote shares with PostgreSQL, the waking costs more CPU than the statement. Most of
those statements are writes whose answer nobody reads (an event appended, a pick line
inserted, the order row updated) and the transaction's own BEGIN. So on a psycopg
connection:

- BEGIN (with the transaction's timeouts, pg_engine.py) is not sent when SQLAlchemy begins:
  it waits for the transaction's first statement;
- a write that answers nothing (`HotStatement.execute` of an INSERT, UPDATE or DELETE,
  `executemany`) waits too;
- the next statement whose answer is read (a SELECT, an UPDATE whose row count decides, any
  statement SQLAlchemy runs itself) takes the waiting ones with it: all of them are sent in
  one psycopg pipeline, in the order they were made, and answered in one round trip;
- COMMIT takes what is still waiting the same way, itself last in the pipeline;
- a read whose answer is needed only a little later (`soon`: an order's lines read with the
  order itself) waits too, and is answered by the same round trip as the statement that sends
  it, on a cursor of its own; one never needed by the time of COMMIT is not sent at all.

Nothing about the transaction changes but when the server hears of it: the statements run in
the same order in the same transaction, and a failure of a waiting statement (a unique key,
a lost connection) is raised by the statement or COMMIT that sent it — SQLAlchemy's error
classes, as direct.py raises them — and rolls the transaction back as before. A COMMIT whose
pipeline loses its connection is a COMMIT whose outcome is unknown (db.py's CommitUnknown).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

# The connection's statements not yet sent, as (SQL, parameters): in the pooled connection's
# info, set afresh by each BEGIN and emptied by COMMIT and ROLLBACK.
_WAITING = "tote_waiting"
_OPENING = "tote_opening"  # how many of the waiting statements are the BEGIN and its settings
_CURSOR = "tote_cursor"  # (driver connection, a cursor of it): the transaction's statements

Statement = tuple[str, Any]


class Slot:
    """Where a read sent later (`soon`) finds its answer: its cursor, once sent."""

    __slots__ = ("cursor",)

    def __init__(self) -> None:
        self.cursor: Any = None


# A waiting statement: its SQL, its parameters, and where its answer goes (a `soon` read's
# slot; None for the rest, whose answers nobody reads but the last).
_Waiting = tuple[str, Any, Slot | None]
_CONTROL = frozenset({"BEGIN", "COMMIT"})


def install(engine: Engine, begin: Sequence[str]) -> None:
    """Make every transaction of this psycopg engine begin with `begin` (sent with its first
    statement) and send its waiting statements with the next one read back, or with COMMIT."""

    opening: list[_Waiting] = [(sql, None, None) for sql in begin]

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.info[_WAITING] = list(opening)
        conn.info[_OPENING] = len(opening)
        conn.info.pop(_CURSOR, None)  # a cursor per transaction, made as the connection says

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn: Connection, *_args: Any) -> None:
        if conn.info.get(_WAITING):
            send(conn, None)

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Connection) -> None:
        waiting = conn.info.pop(_WAITING, None)
        opening_count = conn.info.pop(_OPENING, 0)
        if waiting:
            # Reads nobody asked for by now are not worth a statement.
            waiting = [w for w in waiting if w[2] is None]
        if waiting and len(waiting) > opening_count:
            # Unsent writes (and perhaps the BEGIN): they and the COMMIT in one round trip.
            # psycopg's own commit() then finds no transaction open and sends nothing.
            try:
                _pipeline(conn, [*waiting, ("COMMIT", None, None)])
            except DBAPIError:
                # A statement failed before the COMMIT: the server holds the transaction
                # aborted until a ROLLBACK (a connection kept open, as the group writer's
                # is, must not carry it into its next transaction).
                with contextlib.suppress(Exception):
                    _driver(conn).rollback()
                raise
        # Only the BEGIN waiting: the transaction ran no statement, so none was opened.

    @event.listens_for(engine, "rollback_savepoint")
    def _on_rollback_savepoint(conn: Connection, _name: str, _context: Any) -> None:
        # What waits came after the SAVEPOINT (which sent what waited before it): undone.
        if not conn.invalidated:
            conn.info[_WAITING] = []
            conn.info[_OPENING] = 0

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Connection) -> None:
        if conn.invalidated:  # its connection is gone; the next BEGIN starts afresh anyway
            return
        conn.info.pop(_WAITING, None)  # never sent: nothing of it reached the server
        conn.info.pop(_OPENING, None)


def later(conn: Connection, sql: str, params: Any) -> None:
    """Send this statement later (its answer is not read): with the next one that is read, or
    with COMMIT."""
    waiting = conn.info.get(_WAITING)
    if waiting is None:  # not in a transaction begun by install()'s engine: send it now
        send(conn, (sql, params))
        return
    waiting.append((sql, params, None))


def soon(conn: Connection, sql: str, params: Any) -> Slot:
    """Read this later: sent with the next statement that is read (or by `answer`), and
    answered by the same round trip; never sent if nothing asks for it before COMMIT."""
    slot = Slot()
    waiting = conn.info.get(_WAITING)
    if waiting is None:  # not in a transaction begun by install()'s engine: read it now
        with _as_sqlalchemy(conn, (sql, params)):
            cursor = _driver(conn).cursor()
            cursor.execute(sql, params)
        slot.cursor = cursor
        return slot
    waiting.append((sql, params, slot))
    return slot


def answer(conn: Connection, slot: Slot) -> Any:
    """The cursor holding a `soon` read's rows, sending it (with all that waits) if it has not
    gone yet."""
    if slot.cursor is None:
        send(conn, None)
    if slot.cursor is None:  # its transaction ended (or failed) before anyone asked
        raise RuntimeError("a read made with soon() is asked for after its transaction ended")
    return slot.cursor


def send(conn: Connection, statement: Statement | None) -> Any:
    """Send what waits, and this statement, now; this statement's cursor (its rows, its row
    count), or None."""
    waiting = conn.info.get(_WAITING)
    if not waiting:
        if statement is None:
            return None
        with _as_sqlalchemy(conn, statement):
            return _cursor(conn).execute(statement[0], statement[1])
    conn.info[_WAITING] = []
    conn.info[_OPENING] = 0
    if statement is None:
        _pipeline(conn, waiting)
        return None
    return _pipeline(conn, [*waiting, (statement[0], statement[1], None)])


def _pipeline(conn: Connection, statements: list[_Waiting]) -> Any:
    """Send the statements in one psycopg pipeline (one round trip); the last one's cursor.
    A read made with `soon` gets a cursor of its own, set in its slot once answered."""
    driver = _driver(conn)
    cursor = _cursor(conn)  # one cursor for the rest: only the last statement's answer is read
    answered: list[tuple[Slot, Any]] = []
    with _as_sqlalchemy(conn, statements[-1][:2]):
        with driver.pipeline():
            for sql, params, slot in statements:
                if slot is not None:
                    own = driver.cursor()
                    own.execute(sql, params)
                    answered.append((slot, own))
                    continue
                # BEGIN and COMMIT are not worth a prepared statement of their own.
                cursor.execute(sql, params, prepare=False if sql in _CONTROL else None)
        for slot, own in answered:
            slot.cursor = own
        return cursor  # the pipeline's end has fetched every answer, the last one kept


def _cursor(conn: Connection) -> Any:
    """A cursor of this connection, reused by the statements sent one at a time (a new
    psycopg cursor per statement is a measurable share of a small statement's cost)."""
    driver = _driver(conn)
    held = conn.info.get(_CURSOR)
    if held is not None and held[0] is driver and not held[1].closed:
        return held[1]
    cursor = driver.cursor()
    conn.info[_CURSOR] = (driver, cursor)
    return cursor


def _driver(conn: Connection) -> Any:
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection was closed")
    return driver


@contextmanager
def _as_sqlalchemy(conn: Connection, statement: Statement) -> Iterator[None]:
    """psycopg's errors as SQLAlchemy raises them (callers catch IntegrityError, the retry
    OperationalError), and a connection the server dropped invalidated, so the pool replaces
    it instead of handing it out again."""
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        # What waited was never answered: none of it is to be sent again on this connection.
        conn.info.pop(_WAITING, None)
        conn.info.pop(_OPENING, None)
        gone = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
        if gone:
            conn.invalidate(exc)
        sql, params = statement
        raise DBAPIError.instance(sql, params, exc, dbapi.Error, connection_invalidated=gone,
                                  dialect=conn.dialect) from exc
