"""tote's PostgreSQL engine: a pool of at most `DbOptions.pool_size` connections named `tote`,
idle ones closed, every transaction bounded by the statement and idle-in-transaction timeouts in
a way that holds behind a transaction-pooling PgBouncer (docs/operations.md, "Connections and
PgBouncer"). core/persistence/db.py's Database makes one from a postgresql URL.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolProxiedConnection, QueuePool

from core.domain.errors import Unavailable
from core.persistence import pg_pipeline

log = logging.getLogger(__name__)


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


IDLE_CLOSE_S = 30.0
_SWEEP_EVERY_S = 10.0
CONNECT_TIMEOUT_S = 5
APPLICATION_NAME = "tote"
_QUERY_CANCELED = "57014"  # SQLSTATE query_canceled (statement_timeout, or a cancel request)
# psycopg names its prepared statements _pg3_N; a transaction-pooling PgBouncer (before 1.21)
# hands the next transaction another server connection, which has not got them.
_PREPARED_NAME = re.compile(r'prepared statement "_pg3_\d+" (does not exist|already exists)')


def postgresql_engine(url: str, options: DbOptions, *, echo: bool) -> Engine:
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
        # long enough for IdleSweeper to close them. No pre-ping (a SELECT 1, a round trip and
        # a commit, before every checkout: half of an order's commits): a connection the
        # server dropped fails at the transaction's first statement, our BEGIN below, which
        # SQLAlchemy sees as a disconnect — it invalidates every connection of the pool made
        # before — and Database._retry runs the transaction again (nothing was sent to commit).
        pool_use_lifo=True, pool_pre_ping=False,
    )
    # Sent with the transaction's first statement, in one round trip (pg_pipeline.py).
    pg_pipeline.install(engine, (
        "BEGIN", "SELECT set_config('statement_timeout', "
        f"'{_ms(options.statement_timeout_s)}', true), "
        "set_config('idle_in_transaction_session_timeout', "
        f"'{_ms(options.idle_in_transaction_timeout_s)}', true)"))

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


class IdleSweeper:
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


def _sweep_forever(ref: weakref.ref[IdleSweeper], stopping: threading.Event) -> None:
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
