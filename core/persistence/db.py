"""Engines and transactions for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite runs in WAL mode; a transaction that reads then writes starts with BEGIN IMMEDIATE so
two writers never deadlock on a lock upgrade, and a busy database is waited for (busy_timeout)
then retried — "database is locked" never leaks out as an internal error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

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


class Database:
    """The session factories of one database: `write()` for read-then-write, `read()` for reads."""

    def __init__(self, url: str | None, *, sqlite_synchronous: str = "FULL", echo: bool = False,
                 options: DbOptions | None = None):
        self.url = normalize_url(url)
        self.options = options or DbOptions()
        self.sqlite_synchronous = sqlite_synchronous
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
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
            self.write_engine = create_engine(
                self.url, pool_size=16, max_overflow=8, pool_pre_ping=True, echo=echo
            )
            self.read_engine = self.write_engine
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
        return self._retry(lambda: self._in(self.write, fn), attempts)

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
    def _in(factory: Callable[[], object], fn: Callable[[Session], T]) -> T:
        with factory() as session:  # type: ignore[attr-defined]  # the session factory is typed loosely here
            return fn(session)

    on_retry: Callable[[], None] | None = None  # told of each retry (for metrics)

    def _retry(self, call: Callable[[], T], attempts: int) -> T:
        for attempt in range(1, attempts + 1):
            try:
                return call()
            except OperationalError as exc:
                if not _is_transient(exc) or attempt == attempts:
                    if _is_transient(exc):
                        raise Unavailable(
                            "the database is busy (another process holds its write lock); "
                            "retry in a moment"
                        ) from exc
                    raise
                log.warning("database busy, retrying (attempt %d/%d)", attempt, attempts)
                if self.on_retry is not None:
                    self.on_retry()
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        if self._pinned is not None:
            self._pinned.close()
            self._pinned = None
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _is_transient(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return any(
        s in text
        for s in ("database is locked", "database is busy", "deadlock detected",
                  "could not serialize", "connection refused", "server closed the connection")
    )
