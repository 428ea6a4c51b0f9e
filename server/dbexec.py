"""Database work off the event loop.

SQLite allows one writer at a time, so one writer — a process of its own (server/dbwriter.py,
the default of `tote serve`) or a thread — takes every write, and it commits them in groups:
the jobs waiting when a transaction starts run in it one after another (each inside its own
SAVEPOINT when one fails: a failing job is rolled back alone), and one COMMIT — one fsync —
makes the whole group durable. Every job's caller is answered only after that commit.
PostgreSQL takes concurrent writers itself: a pool of threads, a transaction per job.
Reads use their own threads (WAL readers never block the writer).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core.persistence.db import Database
from server.dbwriter import ProcessGroupWriter

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_GROUP = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


_Job = tuple[Callable[[Session], Any], concurrent.futures.Future]


class _JobFailed(Exception):
    """A job of a group run without savepoints failed: roll it all back, run it isolated."""


def _run_plain(group: list[Callable[[Session], Any]], session: Session) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for call in group:
        try:
            outcomes.append((True, call(session)))
            # A job's ORM changes are written before they are forgotten (expunge drops
            # anything not flushed).
            session.flush()
        except Exception as exc:
            raise _JobFailed from exc
        # Jobs mix ORM objects and SQL Core updates: no job may see another's stale
        # objects through the identity map.
        session.expunge_all()
    return outcomes


def _run_isolated(group: list[Callable[[Session], Any]], session: Session,
                  ) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for call in group:
        savepoint = session.begin_nested()
        try:
            result = call(session)
            savepoint.commit()
            outcomes.append((True, result))
        except Exception as exc:  # one job's failure is its own
            savepoint.rollback()
            outcomes.append((False, exc))
        session.expunge_all()
    return outcomes


def take_group(jobs: queue.SimpleQueue[Any], first: Any, max_group: int,
               ) -> tuple[list[Any], bool]:
    """`first` and the jobs already waiting behind it (up to max_group); True when the queue's
    end (None) was among them."""
    group = [first]
    while len(group) < max_group:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            break
        if job is None:
            return group, True
        group.append(job)
    return group, False


def run_group(db: Database, group: list[Callable[[Session], Any]]) -> list[tuple[bool, Any]]:
    """Run write jobs in one transaction, one COMMIT; each job's (ok, result or exception)."""
    if len(group) == 1:
        try:
            return [(True, db.run_write_pinned(group[0]))]
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            return [(False, exc)]
    # Jobs rarely fail, so the group first runs without savepoints (two statements and
    # SQLAlchemy's nested-transaction bookkeeping per job). If one fails, that attempt is
    # rolled back whole and the group runs again with each job in its own SAVEPOINT.
    try:
        return db.run_write_pinned(functools.partial(_run_plain, group))
    except _JobFailed:
        pass
    except BaseException as exc:  # noqa: BLE001 - the group's commit failed: all fail
        return [(False, exc)] * len(group)
    try:
        return db.run_write_pinned(functools.partial(_run_isolated, group))
    except BaseException as exc:  # noqa: BLE001 - the group's commit failed: all fail
        return [(False, exc)] * len(group)


class _GroupCommitWriter:
    """One thread committing queued write jobs in groups (SQLite)."""

    def __init__(self, db: Database, on_commit: Callable[[], None] | None) -> None:
        self._db = db
        self._on_commit = on_commit
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tote-db-writer", daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[Session], Any]) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((call, fut))
        return fut

    def shutdown(self) -> None:
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            group, stop = take_group(self._jobs, first, MAX_GROUP)
            # A caller that gave up (a cancelled RPC) is not run; the rest can no longer be
            # cancelled, so their results are always delivered.
            group = [job for job in group if job[1].set_running_or_notify_cancel()]
            if group:
                self._commit_group(group)
            if stop:
                return

    def _commit_group(self, group: list[_Job]) -> None:
        outcomes = run_group(self._db, [call for call, _fut in group])
        for (ok, value), (_call, fut) in zip(outcomes, group, strict=True):
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        self._committed()

    def _committed(self) -> None:
        if self._on_commit is not None:
            self._on_commit()


class DbExecutor:
    """Runs core functions `fn(session, *args)` in transactions on worker threads.

    SQLite's writes go to one group-committing writer: a thread (`writer="thread"`), or a
    process of its own (`writer="process"`, server/dbwriter.py) whose work does not compete
    with the event loop for the GIL; there `fn` and its arguments must pickle (module-level
    functions, plain values).
    """

    def __init__(self, db: Database, on_commit: Callable[[], None] | None = None,
                 writer: str = "thread") -> None:
        self.db = db
        self._on_commit = on_commit
        self._group: _GroupCommitWriter | None = None
        self._process: ProcessGroupWriter | None = None
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None
        if writer not in ("thread", "process"):
            raise ValueError(f"writer must be 'thread' or 'process', got {writer!r}")
        if db.is_sqlite and writer == "process":
            self._process = ProcessGroupWriter(db.url, db.sqlite_synchronous, MAX_GROUP,
                                               on_commit)
        elif db.is_sqlite:
            self._group = _GroupCommitWriter(db, on_commit)
        else:
            self._writer = concurrent.futures.ThreadPoolExecutor(
                16, thread_name_prefix="tote-db-write")
        self._reader = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="tote-db-read")

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(session, *args) in a write transaction; wake event listeners after commit."""
        if self._process is not None:
            return await self._process.submit(fn, args)
        call = functools.partial(self._call, fn, args)
        if self._group is not None:
            return await asyncio.wrap_future(self._group.submit(call))
        assert self._writer is not None
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
        if self._process is not None:
            self._process.shutdown()
        if self._group is not None:
            self._group.shutdown()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)
