"""Database work off the event loop.

SQLite allows one writer at a time, so one writer — a process of its own (server/dbwriter/,
the default of `tote serve`) or a thread — takes every write, and it commits them in groups:
the jobs waiting when a transaction starts run in it one after another (each inside its own
SAVEPOINT when one fails: a failing job is rolled back alone), and one COMMIT — one fsync —
makes the whole group durable. Every job's caller is answered only after that commit.
PostgreSQL is written the same way, by one thread on a connection of its own: a group is one
COMMIT and one hand-off between the event loop and the thread, where a transaction per job
cost both per job (and PostgreSQL's CPU per COMMIT). Reads use their own threads (WAL readers
never block the writer; PostgreSQL's readers block no one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, overload

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.persistence.db import Database
from core.service.bus import handle
from core.service.deps import Deps, HandlerConfig
from server.dbgroup import run_group, take_group
from server.dbwriter import ProcessGroupWriter

if TYPE_CHECKING:
    from server.metrics import Metrics

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
log = logging.getLogger(__name__)
MAX_GROUP = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


_Job = tuple[Callable[[Session], Any], concurrent.futures.Future]


class _GroupCommitWriter:
    """One thread committing queued write jobs in groups (SQLite)."""

    def __init__(self, db: Database, on_commit: Callable[[], None] | None,
                 metrics: Metrics | None = None) -> None:
        self._db = db
        self._on_commit = on_commit
        self._metrics = metrics
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        # Jobs submitted (the loop's thread) and answered (the writer's): one writer each, so
        # their difference is the queue's depth without a lock.
        self.submitted = self.answered = 0
        self._thread = threading.Thread(target=self._run, name="tote-db-writer", daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[Session], Any]) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self.submitted += 1
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
            taken = len(group)
            # A caller that gave up (a cancelled RPC) is not run; the rest can no longer be
            # cancelled, so their results are always delivered.
            group = [job for job in group if job[1].set_running_or_notify_cancel()]
            self.answered += taken - len(group)  # cancelled: never answered
            if group:
                self._commit_group(group)
            if stop:
                return

    def _commit_group(self, group: list[_Job]) -> None:
        started = time.perf_counter()
        outcomes = run_group(self._db, [call for call, _fut in group])
        if self._metrics is not None:
            self._metrics.db_transaction_done("write", time.perf_counter() - started)
        # Counted before the callers hear: one that asks at once sees its job gone.
        self.answered += len(group)
        for (ok, value), (_call, fut) in zip(outcomes, group, strict=True):
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)
        self._committed()

    def _committed(self) -> None:
        if self._on_commit is not None:
            self._on_commit()


def _handle_and_shape(session: Session, cmd: Command[R], deps: Deps,
                      shape: Callable[[R], Any] | None) -> Any:
    answer = handle(session, cmd, deps)
    return answer if shape is None else shape(answer)


class DbExecutor:
    """Runs commands (`execute`) and queries (`read`) in transactions on worker threads.

    A command goes to the writer: on SQLite one group-committing writer, a thread
    (`writer="thread"`) or a process of its own (`writer="process"`, server/dbwriter/) whose
    work does not compete with the event loop for the GIL; on PostgreSQL a thread.
    Its handler (core/service/bus.py) runs with this executor's `Deps`, made from `config`
    in whichever process runs it.
    """

    def __init__(self, db: Database, on_commit: Callable[[], None] | None = None,
                 writer: str = "thread", config: HandlerConfig | None = None,
                 metrics: Metrics | None = None) -> None:
        self.db = db
        self._metrics = metrics
        if metrics is not None:
            db.on_retry = metrics.db_retried
        self._config = config or HandlerConfig()
        self._deps = Deps.for_process(self._config)
        self._group: _GroupCommitWriter | None = None
        self._process: ProcessGroupWriter | None = None
        if writer not in ("thread", "process"):
            raise ValueError(f"writer must be 'thread' or 'process', got {writer!r}")
        if db.is_sqlite and writer == "process":
            self._process = ProcessGroupWriter(db.url, db.sqlite_synchronous, MAX_GROUP,
                                               self._config, on_commit, metrics)
        else:
            # PostgreSQL too: one writer committing groups (one COMMIT, one thread hand-off
            # per group, not per job), on a connection of its own.
            self._group = _GroupCommitWriter(db, on_commit, metrics)
        reader: concurrent.futures.ThreadPoolExecutor | None = None
        if not db.is_sqlite:
            # One connection per thread and no more threads than the pool has connections
            # (core/persistence/db.py opens at most pool_size): a job never waits for a
            # connection, nor times out on the pool; it waits in its executor's queue. The
            # writer holds one connection; the rest of the pool reads (at least one).
            size = db.options.pool_size
            reader = concurrent.futures.ThreadPoolExecutor(
                max(1, size - 1), thread_name_prefix="tote-db-read")
        self._reader = reader or concurrent.futures.ThreadPoolExecutor(
            4, thread_name_prefix="tote-db-read")

    @overload
    async def execute(self, cmd: Command[R]) -> R: ...

    @overload
    async def execute(self, cmd: Command[R], shape: Callable[[R], T]) -> T: ...

    async def execute(self, cmd: Command[R], shape: Callable[[R], Any] | None = None) -> Any:
        """Run the command's handler in a write transaction; its answer once committed (event
        listeners are woken after the commit).

        `shape`: a module-level function the answer is passed through where the command ran
        (in the writer process, on SQLite): a servicer's reply built there instead of on the
        event loop every RPC shares — PlaceOrder's, at hundreds a second.
        """
        if self._process is not None:
            return await self._process.submit(cmd, shape)
        call = functools.partial(_handle_and_shape, cmd=cmd, deps=self._deps, shape=shape)
        assert self._group is not None
        return await asyncio.wrap_future(self._group.submit(call))

    async def read(self, fn: Callable[Concatenate[Session, P], T], *args: P.args,
                   **kwargs: P.kwargs) -> T:
        """Run the query fn(session, *args, **kwargs) in a read transaction."""
        return await asyncio.get_running_loop().run_in_executor(
            self._reader, self._timed, "read", self.db.run_read,
            lambda session: fn(session, *args, **kwargs))

    def _timed(self, kind: str, run: Callable[[Callable[[Session], T]], T],
               call: Callable[[Session], T]) -> T:
        """run(call) on a worker thread, its time observed when metrics are on."""
        if self._metrics is None:
            return run(call)
        started = time.perf_counter()
        try:
            return run(call)
        finally:
            self._metrics.db_transaction_done(kind, time.perf_counter() - started)

    @property
    def writer_queue_depth(self) -> Callable[[], float] | None:
        """SQLite: a function telling the write jobs submitted and not yet answered."""
        if self._process is not None:
            return self._process.pending_jobs
        group = self._group
        if group is not None:
            return lambda: group.submitted - group.answered
        return None

    def shutdown(self) -> None:
        if self._process is not None:
            self._process.shutdown()
        if self._group is not None:
            self._group.shutdown()
        self._reader.shutdown(wait=True)
