"""Engines and transactions for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite runs in WAL mode; a transaction that reads then writes starts with BEGIN IMMEDIATE so
two writers never deadlock on a lock upgrade, and a busy database is waited for (busy_timeout)
then retried — "database is locked" never leaks out as an internal error.

PostgreSQL: a pool of at most `DbOptions.pool_size` connections named `tote`, idle ones closed,
every transaction bounded by the statement and idle-in-transaction timeouts in a way that holds
behind a transaction-pooling PgBouncer (docs/operations.md, "Connections and PgBouncer").
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection, QueuePool

from core.domain.errors import Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_SQLITE_FILE = "tote.db"


@dataclass(frozen=True)
class DbOptions:
    """How one process uses a PostgreSQL server (SQLite ignores these).

    `pool_size` is the most connections this process opens (docs/operations.md gives the
    arithmetic: replicas × pool_size + the tools' must stay under the server's
    max_connections). The timeouts bound what one transaction may hold: a statement running
    longer is cancelled, a transaction left idle is ended by the server (neither may hold
    locks or keep vacuum from its work). `prepare_threshold` is psycopg's: None turns
    server-side prepared statements off (PgBouncer in transaction-pooling mode).
    """

    pool_size: int = 10
    statement_timeout_s: float = 30.0
    idle_in_transaction_timeout_s: float = 60.0
    prepare_threshold: int | None = 5


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
IDLE_CLOSE_S = 30.0
_SWEEP_EVERY_S = 10.0
CONNECT_TIMEOUT_S = 5
APPLICATION_NAME = "tote"
_QUERY_CANCELED = "57014"  # SQLSTATE query_canceled (statement_timeout, or a cancel request)
# psycopg names its prepared statements _pg3_N; a transaction-pooling PgBouncer (before 1.21)
# hands the next transaction another server connection, which has not got them.
_PREPARED_NAME = re.compile(r'prepared statement "_pg3_\d+" (does not exist|already exists)')


def _postgresql_engine(url: str, options: DbOptions, *, echo: bool) -> Engine:
    """A pool of at most `options.pool_size` connections, named `tote`, each transaction bounded
    by the statement and idle-in-transaction timeouts.

    The timeouts are set with `set_config(..., is_local => true)` (SET LOCAL) as each
    transaction begins, not per session: a transaction-pooling PgBouncer gives each of our
    transactions whichever server connection is free, so session state would land on some
    other client's connection (and the libpq `options` startup parameter is refused by
    PgBouncer unless told to ignore it, when it would be lost). They cost no round trip: the
    connection is in psycopg's autocommit mode and we send BEGIN ourselves, with the
    set_config in the same message (the simple query protocol takes both); psycopg's
    commit() and rollback() still end the transaction the server reports open.
    """
    connect_args: dict[str, object] = {"prepare_threshold": options.prepare_threshold,
                                       "autocommit": True}
    query = make_url(url).query
    if "application_name" not in query:  # an operator's own name wins
        connect_args["application_name"] = APPLICATION_NAME
    if "connect_timeout" not in query:
        # Per host: a server whose machine is gone (no refusal, only silence) must not hold
        # a connection attempt past a caller's deadline, and a failover list moves on.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    engine = create_engine(
        url, echo=echo, connect_args=connect_args,
        # Never more than pool_size: server/dbexec.py runs no more threads than that, so no
        # thread waits on the pool (the timeout only catches a leak).
        pool_size=options.pool_size, max_overflow=0, pool_timeout=60,
        # LIFO: a light load keeps reusing the same few connections, and the rest go unused
        # long enough for _IdleSweeper to close them.
        pool_use_lifo=True, pool_pre_ping=True,
    )
    begin = ("BEGIN; SELECT set_config('statement_timeout', "
             f"'{_ms(options.statement_timeout_s)}', true), "
             "set_config('idle_in_transaction_session_timeout', "
             f"'{_ms(options.idle_in_transaction_timeout_s)}', true)")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    told = threading.Event()  # the operator is told once, not at every failed transaction

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        orig = context.original_exception
        if options.prepare_threshold is not None and _PREPARED_NAME.search(str(orig)):
            message = (
                f"PostgreSQL lost a prepared statement of this connection ({orig}): tote is "
                "connected through a transaction-pooling PgBouncer (or another pooler) with "
                "prepared statements on; start tote serve with --no-db-prepared-statements "
                "(TOTE_DB_PREPARED_STATEMENTS=false)")
            if not told.is_set():
                told.set()
                log.error("%s", message)
            raise PreparedStatementsUnsupported(message) from orig
        if (getattr(orig, "sqlstate", None) == _QUERY_CANCELED
                and "statement timeout" in str(orig)):
            raise StatementTimedOut(
                f"the database cancelled a statement after {options.statement_timeout_s:g} s "
                "(--db-statement-timeout-s): it is overloaded or a lock is held elsewhere; "
                "retry in a moment") from orig

    return engine


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class PreparedStatementsUnsupported(Unavailable):
    """The database's connections do not keep prepared statements (a transaction pooler)."""


class StatementTimedOut(Unavailable):
    """A statement ran past statement_timeout (waiting for a lock counts): retry later."""


class _IdleSweeper:
    """Closes pooled connections nobody used for a while, every _SWEEP_EVERY_S.

    SQLAlchemy's pool never closes a connection it holds; a server-side idle timeout would
    (the way SQLAlchemy suggests with LIFO) but is session state, which a transaction-pooling
    PgBouncer would apply to a server connection other clients share. So the sweep takes the
    idle connections out of the pool (public `Pool.connect()`), closes those idle longer than
    the limit and puts the rest back, most recently used on top of the LIFO stack. A closed
    one leaves an empty slot at the bottom, connected again only when the load reaches it.
    """

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._empty: set[int] = set()  # id() of the slots this sweep emptied
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        event.listen(pool, "connect", self._connected)
        event.listen(pool, "checkin", self._checked_in)

    def _connected(self, _dbapi_conn: object, record: ConnectionPoolEntry) -> None:
        with self._lock:
            self._empty.discard(id(record.info))
            if self._thread is None and not self._stopping.is_set():
                # The thread holds the sweeper weakly: a Database dropped without dispose()
                # (a tool, a test) is collected, and its thread ends.
                self._thread = threading.Thread(target=_sweep_forever,
                                                args=(weakref.ref(self), self._stopping),
                                                name="tote-db-idle", daemon=True)
                self._thread.start()
        record.info["idle_since"] = time.monotonic()

    @staticmethod
    def _checked_in(_dbapi_conn: object, record: ConnectionPoolEntry) -> None:
        if not record.info.pop("sweeping", False):
            record.info["idle_since"] = time.monotonic()

    def sweep(self, idle_s: float) -> int:
        """Close the pooled connections unused for idle_s; how many were closed."""
        pool = self._pool
        assert isinstance(pool, QueuePool)
        with self._lock:
            live = pool.checkedin() - len(self._empty)
        taken: list[PoolProxiedConnection] = []
        try:
            for _ in range(max(0, live)):
                taken.append(pool.connect())
        finally:
            now = time.monotonic()
            stale = [c for c in taken if now - _idle_since(c, now) >= idle_s]
            for conn in stale:
                with self._lock:
                    self._empty.add(id(_info(conn)))
                conn.invalidate()
                conn.close()
            # taken came off the LIFO stack most recent first: back in reverse order.
            for conn in reversed([c for c in taken if c not in stale]):
                _info(conn)["sweeping"] = True
                conn.close()
        return len(stale)

    def stop(self) -> None:
        self._stopping.set()


def _sweep_forever(ref: weakref.ref[_IdleSweeper], stopping: threading.Event) -> None:
    while not stopping.wait(_SWEEP_EVERY_S):
        sweeper = ref()
        if sweeper is None:
            return
        try:
            sweeper.sweep(IDLE_CLOSE_S)
        except Exception:  # the database away: the pool's own checks deal with it
            log.debug("idle connection sweep failed", exc_info=True)
        del sweeper


def _idle_since(conn: PoolProxiedConnection, default: float) -> float:
    since = _info(conn).get("idle_since", default)
    return since if isinstance(since, float) else default


def _info(conn: PoolProxiedConnection) -> dict[str, object]:
    # `.info` (not `.record_info`): the dict the pool's events see as the record's `.info`
    return conn.info


class Database:
    """The session factories of one database: `write()` for read-then-write, `read()` for reads."""

    def __init__(self, url: str | None, *, sqlite_synchronous: str = "FULL", echo: bool = False,
                 options: DbOptions | None = None):
        self.url = normalize_url(url)
        self.options = options or DbOptions()
        self.sqlite_synchronous = sqlite_synchronous
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self._sweeper: _IdleSweeper | None = None
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
            self.write_engine = _postgresql_engine(self.url, self.options, echo=echo)
            self.read_engine = self.write_engine
            self._sweeper = _IdleSweeper(self.write_engine.pool)
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
        with conn.begin():
            # The session joins the connection's transaction; `conn.begin()` commits it.
            session = Session(bind=conn, expire_on_commit=False)
            try:
                result = fn(session)
                session.flush()  # the ORM's pending changes, before the connection commits
                return result
            finally:
                session.close()

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
