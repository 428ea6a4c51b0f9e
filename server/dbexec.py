"""Database work off the event loop: one writer thread for SQLite, a pool for PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core.persistence.db import Database

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


class DbExecutor:
    """Runs core functions `fn(session, *args)` in a transaction on worker threads.

    SQLite allows one writer at a time: a single writer thread serializes writes in-process so
    they never wait on each other's file lock; reads use their own threads (WAL readers never
    block the writer).
    """

    def __init__(self, db: Database, on_commit: Callable[[], None] | None = None) -> None:
        self.db = db
        writers = 1 if db.is_sqlite else 8
        self._writer = ThreadPoolExecutor(writers, thread_name_prefix="tote-db-write")
        self._reader = ThreadPoolExecutor(4, thread_name_prefix="tote-db-read")
        self._on_commit = on_commit

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(session, *args) in a write transaction; wake event listeners after commit."""
        call = functools.partial(self._call, fn, args)
        result = await asyncio.get_running_loop().run_in_executor(
            self._writer, self.db.run_write, call)
        if self._on_commit is not None:
            self._on_commit()
        return result

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(session, *args) in a read transaction."""
        call = functools.partial(self._call, fn, args)
        return await asyncio.get_running_loop().run_in_executor(
            self._reader, self.db.run_read, call)

    @staticmethod
    def _call(fn: Callable[..., T], args: tuple[Any, ...], session: Session) -> T:
        return fn(session, *args)

    def shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)
