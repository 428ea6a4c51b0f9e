"""SQLite's one writer in a process of its own: tote serve's side (`ProcessGroupWriter`).

tote serve's RPCs, saga and HTTP clients run on one event loop under one GIL; the writer's
SQLAlchemy work competes with them for it when it runs in a thread. In its own process it runs
beside them: commands (core/domain/commands.py) go to it in batches, are handled
(core/service/bus.py) and committed in groups exactly as the thread writer does
(server/dbgroup.py), and each command's answer or exception comes back once its group is
durable. The process is server/dbwriter/child.py; how commands and answers cross is
server/dbwriter/wire.py, the one place that pickles them. The handlers' settings
(`HandlerConfig`) cross once, when the writer starts.

Two socket pairs carry length-prefixed pickles, one each way: the parent writes jobs with
blocking sends and reads answers on its event loop without blocking (a loop may make a socket it
watches non-blocking, so each direction has its own). Down go batches [(job id, pickled
command), ...] — each command pickled alone, so one the writer cannot read is refused alone —
and up come groups' answers [(job id, ok, answer or exception), ...].
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.domain.commands import Command
from core.domain.errors import Unavailable
from core.service.deps import HandlerConfig
from server.dbwriter import wire

if TYPE_CHECKING:
    from server.metrics import Metrics

log = logging.getLogger(__name__)
# Where `server` is: the writer process finds tote there, as this process did.
SOURCE_ROOT = Path(__file__).resolve().parents[2]


class ProcessGroupWriter:
    """The parent's side, on its event loop: `await submit(command)` answers after the commit.

    Answers are read on the loop itself (their socket is one of its readers), so answering a
    job costs no thread hand-off.
    """

    def __init__(self, url: str, synchronous: str, max_group: int, config: HandlerConfig,
                 on_commit: Callable[[], None] | None, metrics: Metrics | None = None) -> None:
        self._metrics = metrics
        self._loop = asyncio.get_running_loop()
        jobs_out, jobs_in = socket.socketpair()
        answers_in, answers_out = socket.socketpair()
        # Jobs sent while the writer commits wait in this buffer (it reads between groups):
        # room for megabytes, so the loop's blocking send does not wait on a commit (the
        # kernel caps it at net.core.wmem_max).
        jobs_out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        # A child of its own (not multiprocessing's spawn, which would run the parent's
        # __main__ again in the child): it finds tote where this process found it.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(SOURCE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        with jobs_in, answers_out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "server.dbwriter", str(jobs_in.fileno()),
                 str(answers_out.fileno()), url, synchronous, str(max_group),
                 *(["metrics"] if metrics is not None else [])],
                pass_fds=[jobs_in.fileno(), answers_out.fileno()], env=env,
                stdin=subprocess.DEVNULL)
        self._jobs = jobs_out  # blocking: a batch is written whole
        self._jobs.sendall(wire.frame(config))  # first, the handlers' settings
        self._answers = answers_in
        self._answers.setblocking(False)
        self._buffer = bytearray()
        self._on_commit = on_commit
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count()
        self._outbox: list[tuple[int, bytes]] = []
        self._closed = False
        self._ended = threading.Event()  # set once the sockets are closed
        self._loop.add_reader(self._answers.fileno(), self._readable)

    def submit(self, cmd: Command[Any],
               shape: Callable[[Any], Any] | None = None) -> asyncio.Future[Any]:
        """Queue one command (on the loop's thread); the commands queued while the loop runs
        one iteration go to the writer together. Once sent a command runs, and its answer
        comes back — through `shape` (a module-level function, run by the writer) if given."""
        work = cmd if shape is None else (cmd, shape)
        return self._queue(work, type(cmd).__qualname__)

    def _queue(self, work: Any, name: str) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = self._loop.create_future()
        if self._closed:
            fut.set_exception(Unavailable("the database writer has stopped; retry in a moment"))
            return fut
        try:
            blob = wire.dumps(work)
        except wire.PICKLE_ERRORS as exc:
            fut.set_exception(RuntimeError(f"{name}: does not pickle for the database "
                                           f"writer: {exc}"))
            return fut
        jid = next(self._ids)
        self._pending[jid] = fut
        self._outbox.append((jid, blob))
        if len(self._outbox) == 1:
            self._loop.call_soon(self._flush)
        return fut

    def _flush(self) -> None:
        batch, self._outbox = self._outbox, []
        if not batch or self._closed:
            return
        try:
            self._jobs.sendall(wire.frame(batch))
        except OSError:
            self._stopped()

    def _readable(self) -> None:
        ended = False
        while True:
            try:
                chunk = self._answers.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                ended = True
                break
            if not chunk:  # the writer has exited: answer what it sent first
                ended = True
                break
            self._buffer += chunk
        answered = False
        for results in wire.unframe(self._buffer):
            for jid, ok, value in results:
                if jid == wire.GROUP_TIMING:
                    self._group_timed(*value)
                    continue
                fut = self._pending.pop(jid)
                if fut.cancelled():
                    continue  # the caller gave up; the job ran all the same
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)
            answered = True
        if answered and self._on_commit is not None:
            self._on_commit()
        if ended:
            self._stopped()

    def pending_jobs(self) -> int:
        """Jobs submitted and not yet answered (the metrics' writer queue depth)."""
        return len(self._pending)

    def _group_timed(self, seconds: float, retries: int) -> None:
        """The writer's report of one group: its transaction's time and retries."""
        if self._metrics is not None:
            self._metrics.db_transaction_done("write", seconds)
            if retries:
                self._metrics.db_retried(retries)

    def _stopped(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._answers.fileno())
        self._answers.close()
        self._jobs.close()  # a writer still running sees the end of its jobs and exits
        self._ended.set()
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
                self._jobs.sendall(wire.frame(None))
            except OSError:
                pass

    def shutdown(self) -> None:
        """Stop the writer once the jobs sent are done (from any thread; jobs are written on
        the loop's thread only)."""
        try:
            self._loop.call_soon_threadsafe(self._send_stop)
        except RuntimeError:  # the loop is closed: nothing else writes the socket any more
            self._send_stop()
            self._stopped_without_loop()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log.warning("the database writer did not stop in 30 s; terminating it")
            self._proc.terminate()
            self._proc.wait(timeout=5)
        # Its end of the answers closed: the loop reads that and closes ours.
        if not self._ended.wait(timeout=5):
            try:
                self._loop.call_soon_threadsafe(self._stopped)
            except RuntimeError:
                self._stopped_without_loop()
            self._ended.wait(timeout=5)

    def _stopped_without_loop(self) -> None:
        self._closed = True
        self._answers.close()
        self._jobs.close()
        self._ended.set()
