"""SQLite's one writer in a process of its own.

tote serve's RPCs, saga and HTTP clients run on one event loop under one GIL; the writer's
SQLAlchemy work competes with them for it when it runs in a thread. In its own process it runs
beside them: jobs — a core function, picklable by reference, and its arguments — go down a pipe,
are committed in groups exactly as the thread writer does (server/dbexec.py), and each job's
result or exception comes back once its group is durable.

The child ignores SIGINT (the parent shuts it down) and exits when the parent's end of the pipe
closes, so a parent killed outright leaves no writer behind; whatever group was in flight
commits or not, like a crash in the middle of a COMMIT.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from core.domain.errors import Unavailable

log = logging.getLogger(__name__)

# (job id, function, args) down; [(job id, ok, result or exception), ...] per group up.
_Job = tuple[int, Callable[..., Any], tuple[Any, ...]]


def _child(conn: Any, url: str, synchronous: str, max_group: int) -> None:
    from core.persistence.db import Database
    from server.dbexec import run_group

    db = Database(url, sqlite_synchronous=synchronous)
    jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()

    def pump() -> None:
        try:
            while True:
                batch = conn.recv()
                if batch is None:
                    break
                for blob in batch:
                    jobs.put(pickle.loads(blob))
        except (EOFError, OSError):
            pass
        jobs.put(None)

    threading.Thread(target=pump, name="tote-db-writer-pipe", daemon=True).start()
    try:
        while True:
            first = jobs.get()
            if first is None:
                return
            group, stop = [first], False
            while len(group) < max_group:
                try:
                    job = jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                group.append(job)
            outcomes = run_group(db, [(_bind(fn, args)) for _jid, fn, args in group])
            _send(conn, [(jid, ok, value) for (jid, _fn, _args), (ok, value)
                         in zip(group, outcomes, strict=True)])
            if stop:
                return
    finally:
        db.dispose()


def _bind(fn: Callable[..., Any], args: tuple[Any, ...]) -> Callable[[Any], Any]:
    return lambda session: fn(session, *args)


def _send(conn: Any, results: list[tuple[int, bool, Any]]) -> None:
    try:
        conn.send(results)
        return
    except (pickle.PicklingError, TypeError, AttributeError):
        pass
    for jid, ok, value in results:  # one result would not pickle: send the rest as they are
        try:
            conn.send([(jid, ok, value)])
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            conn.send([(jid, False, RuntimeError(
                f"the database writer could not send back {type(value).__name__}: {exc}"))])


class ProcessGroupWriter:
    """The parent's side, on its event loop: `await submit(fn, args)` answers after the commit.

    Results are read on the loop itself (the pipe is one of its readers), so answering a job
    costs no thread hand-off.
    """

    def __init__(self, url: str, synchronous: str, max_group: int,
                 on_commit: Callable[[], None] | None) -> None:
        self._loop = asyncio.get_running_loop()
        mine, theirs = socket.socketpair()
        # A child of its own (not multiprocessing's spawn, which would run the parent's
        # __main__ again in the child): it finds tote where this process found it.
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
        with theirs:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "server.dbwriter", str(theirs.fileno()), url,
                 synchronous, str(max_group)],
                pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL)
        self._conn = Connection(mine.detach())
        self._on_commit = on_commit
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self._outbox: list[bytes] = []
        self._closed = False
        self._loop.add_reader(self._conn.fileno(), self._readable)

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Queue one job (on the loop's thread); the jobs queued while the loop runs one
        iteration go down the pipe together. Once sent a job runs, and its answer comes back."""
        fut: asyncio.Future[Any] = self._loop.create_future()
        if self._closed:
            fut.set_exception(Unavailable("the database writer has stopped; retry in a moment"))
            return fut
        jid = next(self._ids)
        try:
            blob = pickle.dumps((jid, fn, args), pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            fut.set_exception(RuntimeError(f"{fn.__qualname__}: arguments do not pickle for "
                                           f"the database writer: {exc}"))
            return fut
        self._pending[jid] = fut
        self._outbox.append(blob)
        if len(self._outbox) == 1:
            self._loop.call_soon(self._flush)
        return fut

    def _flush(self) -> None:
        batch, self._outbox = self._outbox, []
        if not batch or self._closed:
            return
        try:
            self._conn.send(batch)
        except OSError:
            self._stopped()

    def _readable(self) -> None:
        try:
            while self._conn.poll():
                for jid, ok, value in self._conn.recv():
                    fut = self._pending.pop(jid)
                    if fut.cancelled():
                        continue  # the caller gave up; the job ran all the same
                    if ok:
                        fut.set_result(value)
                    else:
                        fut.set_exception(value)
                if self._on_commit is not None:
                    self._on_commit()
        except (EOFError, OSError):
            self._stopped()

    def _stopped(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._conn.fileno())
        pending, self._pending = self._pending, {}
        if pending:
            log.error("the database writer process ended with %d jobs unanswered",
                      len(pending))
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(Unavailable("the database writer stopped; retry in a moment"))

    def _send_stop(self) -> None:
        self._flush()
        if not self._closed:
            try:
                self._conn.send(None)
            except OSError:
                pass

    def shutdown(self) -> None:
        """Stop the writer once the jobs sent are done (from any thread; the pipe is written
        on the loop's thread only)."""
        try:
            self._loop.call_soon_threadsafe(self._send_stop)
        except RuntimeError:  # the loop is closed: nothing else writes the pipe any more
            self._send_stop()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("the database writer did not stop in 30 s; terminating it")
            self._proc.terminate()
            self._proc.wait(timeout=5)


def main(argv: list[str]) -> None:
    """`python -m server.dbwriter FD URL SYNCHRONOUS MAX_GROUP` (started by ProcessGroupWriter)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the parent, which stops us
    fd, url, synchronous, max_group = argv
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    _child(Connection(int(fd)), url, synchronous, int(max_group))


if __name__ == "__main__":
    main(sys.argv[1:])
