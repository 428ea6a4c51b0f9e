"""Engines and transactions for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite runs in WAL mode; a transaction that reads then writes starts with BEGIN IMMEDIATE so
two writers never deadlock on a lock upgrade, and a busy database is waited for (busy_timeout)
then retried — "database is locked" never leaks out as an internal error.

PostgreSQL: the engine of core/persistence/pg_engine.py; a failure is classified once (busy,
connection lost, timed out: `_failure`), retried where a new transaction may not meet it, and
otherwise answered as Unavailable with what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from core.domain.errors import Unavailable
from core.persistence.pg_engine import DbOptions, IdleSweeper, postgresql_engine

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_SQLITE_FILE = "tote.db"


def normalize_url(url: str | None) -> str:
    """Turn a --db value into an SQLAlchemy URL: a path means a SQLite file; postgres → psycopg."""
    if not url:
        url = DEFAULT_SQLITE_FILE
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _sqlite_engine(url: str, *, immediate: bool, synchronous: str) -> Engine:
    engine = create_engine(url, pool_size=8, max_overflow=8, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let us emit BEGIN ourselves (pysqlite's own BEGIN is deferred and implicit).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# A pooled PostgreSQL connection unused this long is closed (the pool opens it again when the
# load needs it): an idle replica holds the one or two connections its background workers use,
# not the most its busiest moment took (docs/operations.md, "Connections and PgBouncer").
class Database:
    """The session factories of one database: `write()` for read-then-write, `read()` for reads."""

    def __init__(self, url: str | None, *, sqlite_synchronous: str = "FULL", echo: bool = False,
                 options: DbOptions | None = None):
        self.url = normalize_url(url)
        self.options = options or DbOptions()
        self.sqlite_synchronous = sqlite_synchronous
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self._sweeper: IdleSweeper | None = None
        if self.dialect == "sqlite":
            if sqlite_synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
                raise ValueError(f"bad sqlite synchronous {sqlite_synchronous!r}")
            self.write_engine = _sqlite_engine(
                self.url, immediate=True, synchronous=sqlite_synchronous.upper()
            )
            self.read_engine = _sqlite_engine(
                self.url, immediate=False, synchronous=sqlite_synchronous.upper()
            )
        else:
            self.write_engine = postgresql_engine(self.url, self.options, echo=echo)
            self.read_engine = self.write_engine
            self._sweeper = IdleSweeper(self.write_engine.pool)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._pinned: Connection | None = None
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (consistent snapshot)."""
        with self._read_sessions() as session, session.begin():
            yield session

    def run_write(self, fn: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run fn in a write transaction, retrying when the database is busy."""
        return self._retry(lambda: self._in(self.write, fn, write=True), attempts)

    def run_write_pinned(self, fn: Callable[[Session], T], *, attempts: int = 5) -> T:
        """run_write on one connection kept open for it: SQLite's single writer (one thread)
        takes no pool checkout and builds no session factory per transaction."""
        return self._retry(lambda: self._in_pinned(fn), attempts)

    def _in_pinned(self, fn: Callable[[Session], T]) -> T:
        conn = self._pinned
        if conn is None or conn.closed or conn.invalidated:
            conn = self._pinned = self.write_engine.connect()
        committing = False
        try:
            with conn.begin():
                # The session joins the connection's transaction; `conn.begin()` commits it.
                session = Session(bind=conn, expire_on_commit=False)
                try:
                    result = fn(session)
                    session.flush()  # the ORM's pending changes, before the connection commits
                finally:
                    session.close()
                committing = True
            return result
        except DBAPIError as exc:
            # As in _in: a COMMIT whose reply was lost may have been applied; never again.
            if committing and _failure(exc) == _LOST:
                raise CommitUnknown(COMMIT_UNKNOWN) from exc
            raise

    @staticmethod
    def passing(exc: BaseException) -> bool:
        """Whether exc is a failure a new transaction may not meet (busy, a conflict, a lost
        connection): the work can be run again, as run_write does."""
        return isinstance(exc, DBAPIError | PoolTimeout) and _failure(exc) in _RETRIED

    def run_read(self, fn: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run fn in a read transaction, retrying when the database is busy."""
        return self._retry(lambda: self._in(self.read, fn), attempts)

    @staticmethod
    def _in(factory: Callable[[], object], fn: Callable[[Session], T], *,
            write: bool = False) -> T:
        committing = False
        try:
            with factory() as session:  # type: ignore[attr-defined]  # the session factory is typed loosely here
                result = fn(session)
                session.flush()  # the statements' own failures come before the COMMIT
                committing = True
            return result
        except DBAPIError as exc:
            # Only the COMMIT's own reply was lost: it may have been applied. A read's is
            # harmless (nothing to apply), and a write's is the caller's to resolve.
            if committing and write and _failure(exc) == _LOST:
                raise CommitUnknown(COMMIT_UNKNOWN) from exc
            raise

    on_retry: Callable[[], None] | None = None  # told of each retry (for metrics)

    def _retry(self, call: Callable[[], T], attempts: int) -> T:
        """call(), again while its failure is one a new transaction may not meet (a busy
        database, a lost connection, a conflict); after the last attempt, or for a failure
        that retrying cannot help, Unavailable with what to do. Safe to repeat: a failed
        transaction was rolled back (the server rolls back one whose connection is gone), and
        a COMMIT whose outcome is unknown is never repeated here (CommitUnknown)."""
        for attempt in range(1, attempts + 1):
            try:
                return call()
            except (DBAPIError, PoolTimeout) as exc:
                failure = _failure(exc)
                if failure is None:
                    raise
                if failure not in _RETRIED or attempt == attempts:
                    message = _MESSAGES[failure]
                    if failure == _BUSY and self.is_sqlite:
                        message = SQLITE_BUSY
                    log.warning("database call failed (%s): %s", failure, _first_line(exc))
                    raise Unavailable(message) from exc
                if self.on_retry is not None:
                    self.on_retry()
                log.debug("database call failed (%s), retrying (attempt %d/%d): %s",
                          failure, attempt, attempts, _first_line(exc))
                # Backing off: a restarting server or a failover needs a moment, a lock
                # conflict a little less; the sum (1.5 s over 5 attempts) stays well under
                # any client's deadline.
                time.sleep((0.1 if failure == _LOST else 0.05) * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.stop()
        if self._pinned is not None:
            self._pinned.close()
            self._pinned = None
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


class CommitUnknown(Unavailable):
    """The connection was lost while a write transaction's COMMIT was under way: it may or may
    not have been applied. Never retried blindly; the caller retries with what makes a repeat
    harmless (an idempotency key, a compare-and-set step)."""


COMMIT_UNKNOWN = ("the connection to the database was lost while saving this change, so it may "
                  "or may not have been saved; retry in a moment (a request with an idempotency "
                  "key is applied once however often it is sent; otherwise read it back first)")
SQLITE_BUSY = ("the database is busy (another process holds its write lock); "
               "retry in a moment")

# What went wrong with a database call, as far as the caller is concerned.
_BUSY = "busy"  # a lock or a conflict: the transaction was rolled back
_LOST = "connection lost"  # no server, a server going down or coming up, a killed session
_SLOW = "timed out"  # a statement over statement_timeout, or no pool connection in time
_RETRIED = (_BUSY, _LOST)
_MESSAGES = {
    _BUSY: ("the database is busy (a conflicting change is under way); retry in a moment"),
    _LOST: ("the database is unreachable (restarting, failing over or overloaded); "
            "retry in a moment"),
    _SLOW: ("the database is too slow to answer right now (overloaded); retry in a moment"),
}
# PostgreSQL's SQLSTATEs (Appendix A of its manual) by what they mean to tote.
_SQLSTATES = {
    "40001": _BUSY,  # serialization_failure
    "40P01": _BUSY,  # deadlock_detected
    "55P03": _BUSY,  # lock_not_available (lock_timeout)
    "57P01": _LOST,  # admin_shutdown: fast shutdown, pg_terminate_backend
    "57P02": _LOST,  # crash_shutdown: another backend crashed
    "57P03": _LOST,  # cannot_connect_now: starting up, shutting down, in recovery
    "53300": _LOST,  # too_many_connections
    "25P03": _LOST,  # idle_in_transaction_session_timeout ended the session
    "57014": _SLOW,  # query_canceled: statement_timeout
}
_SQLITE_BUSY = ("database is locked", "database is busy")


def _failure(exc: Exception) -> str | None:
    """What kind of passing failure exc is (_BUSY, _LOST, _SLOW), or None for any other
    error (a bug, a constraint: retrying would fail the same way)."""
    if isinstance(exc, PoolTimeout):
        return _SLOW
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:  # SQLAlchemy saw the connection die under the statement
        return _LOST
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return _SQLSTATES.get(sqlstate) or (_LOST if sqlstate.startswith("08") else None)
    if type(orig).__module__.startswith("psycopg"):
        # psycopg's own errors without a SQLSTATE are the client's: no connection could be
        # made ("connection refused", "the database system is starting up"), or the one in
        # use broke. Anything else it raises carries the server's SQLSTATE.
        return _LOST if isinstance(exc, (OperationalError, InterfaceError)) else None
    text = str(orig).lower()
    return _BUSY if isinstance(exc, OperationalError) and any(
        s in text for s in _SQLITE_BUSY) else None


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _is_transient(exc: OperationalError) -> bool:
    """A failure that may pass: retrying, or answering UNAVAILABLE, is right."""
    return _failure(exc) is not None
