"""SQLite's one writer in a process of its own.

tote serve's RPCs, saga and HTTP clients run on one event loop under one GIL; the writer's
SQLAlchemy work competes with them for it when it runs in a thread. In its own process it runs
beside them: commands (core/domain/commands.py) go to it in batches, are handled
(core/service/bus.py) and committed in groups exactly as the thread writer does
(server/dbgroup.py), and each command's answer or exception comes back once its group is
durable. This module is the one place that knows commands and answers cross as pickles: the
handlers' settings (`HandlerConfig`) cross once, when the writer starts.

Two socket pairs carry length-prefixed pickles, one each way: the parent writes jobs with
blocking sends and reads answers on its event loop without blocking (a loop may make a socket it
watches non-blocking, so each direction has its own). The child's one thread both reads jobs
(between groups) and commits them. The child ignores SIGINT (the parent
shuts it down) and exits when the parent's end closes, so a parent killed outright leaves no
writer behind; whatever group was in flight commits or not, like a crash in a COMMIT.
"""

from __future__ import annotations

import asyncio
import collections
import copyreg
import dataclasses
import enum
import io
import itertools
import logging
import operator
import os
import pickle
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from core.domain.commands import Command
from core.domain.errors import Unavailable
from core.service.deps import HandlerConfig

log = logging.getLogger(__name__)

# [(job id, pickled command), ...] per batch down; [(job id, ok, answer or exception), ...]
# per group up. A command is pickled alone, so one the writer cannot read is refused alone.
# (Until every caller sends commands, a job may still be a pickled (function, args).)
_Job = tuple[int, Any]
_HEADER = struct.Struct("!Q")
_PICKLE_ERRORS = (pickle.PicklingError, TypeError, AttributeError)


class _Unreadable:
    """A job whose command the writer could not unpickle: answered with why, not run."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


# Commands and answers are mostly slotted frozen dataclasses holding enums. Pickle's default
# for a frozen slotted dataclass is its __getstate__/__setstate__, which walk dataclasses.fields()
# on every call, and an enum is rebuilt through EnumType.__call__: the wire sends a dataclass as
# (class, field values), rebuilt without __init__ (it was valid when made), and an enum as
# getattr(class, name). Each class's reduction is found once (`_Reductions`); every other type
# reduces as pickle's default would.
_SETTERS: dict[type, tuple[Callable[[Any, Any], None], ...]] = {}


def _slotted_fields(cls: type) -> tuple[str, ...] | None:
    if dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__:
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


def _rebuild(cls: type, values: tuple[Any, ...]) -> Any:
    setters = _SETTERS.get(cls)
    if setters is None:
        # Each slot's own descriptor: a frozen dataclass refuses setattr.
        setters = _SETTERS[cls] = tuple(
            next(k.__dict__[n] for k in cls.__mro__ if n in k.__dict__).__set__
            for n in _slotted_fields(cls) or ())
    obj: Any = object.__new__(cls)
    for setter, value in zip(setters, values, strict=True):
        setter(obj, value)
    return obj


def _reduction(cls: type) -> Callable[[Any], Any]:
    if issubclass(cls, type):  # a class whose metaclass is not `type` (an enum's): by name
        return operator.attrgetter("__qualname__")
    if issubclass(cls, enum.Enum):
        return lambda member: (getattr, (cls, member._name_))
    names = _slotted_fields(cls)
    if names is None:
        default = copyreg.dispatch_table.get(cls)
        return default or operator.methodcaller("__reduce_ex__", pickle.HIGHEST_PROTOCOL)
    if len(names) == 1:
        (name,) = names
        return lambda obj: (_rebuild, (cls, (getattr(obj, name),)))
    values = operator.attrgetter(*names) if names else (lambda obj: ())
    return lambda obj: (_rebuild, (cls, values(obj)))


class _Reductions(dict[type, Callable[[Any], Any]]):
    def __missing__(self, cls: type) -> Callable[[Any], Any]:
        reduce = self[cls] = _reduction(cls)
        return reduce


class _WirePickler(pickle.Pickler):
    dispatch_table = _Reductions()


def _dumps(message: Any) -> bytes:
    out = io.BytesIO()
    _WirePickler(out, pickle.HIGHEST_PROTOCOL).dump(message)
    return out.getvalue()


def _frame(message: Any) -> bytes:
    payload = _dumps(message)
    return _HEADER.pack(len(payload)) + payload


def _unframe(buffer: bytearray) -> Iterator[Any]:
    """The whole messages at the front of `buffer`, each taken out as it is read (the start
    of one still arriving stays)."""
    while len(buffer) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buffer)
        end = _HEADER.size + size
        if len(buffer) < end:
            return
        message = pickle.loads(memoryview(buffer)[_HEADER.size:end])
        del buffer[:end]
        yield message


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    """n bytes from a blocking socket; None at end of stream."""
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _child(inbox: socket.socket, outbox: socket.socket, url: str, synchronous: str,
           max_group: int) -> None:
    from core.persistence.db import Database
    from core.service.deps import Deps
    from server.dbgroup import run_group

    header = _recv_exactly(inbox, _HEADER.size)
    if header is None:
        return
    blob = _recv_exactly(inbox, _HEADER.unpack(header)[0])
    if blob is None:
        return
    deps = Deps.for_process(pickle.loads(blob))
    db = Database(url, sqlite_synchronous=synchronous)
    inbox.setblocking(False)
    buffer = bytearray()
    jobs: collections.deque[_Job] = collections.deque()
    sending = True
    try:
        while True:
            # Jobs that arrived meanwhile join the next group; with none to do, wait for one.
            if sending:
                sending = _receive(inbox, buffer, jobs, wait=not jobs)
            if not jobs:
                if not sending:
                    return  # the parent said stop, or its end closed: every job sent is done
                continue
            group = [jobs.popleft() for _ in range(min(max_group, len(jobs)))]
            outcomes = run_group(db, [_bind(job, deps) for job in group])
            _answer(outbox, [(job[0], ok, value) for job, (ok, value)
                             in zip(group, outcomes, strict=True)])
    except OSError:
        return  # the parent is gone
    finally:
        db.dispose()


def _receive(inbox: socket.socket, buffer: bytearray, jobs: collections.deque[_Job],
             wait: bool) -> bool:
    """Queue the whole jobs the parent has sent, waiting for one when `wait`; False once the
    parent has said stop or closed its end (the jobs before that are queued all the same).

    The one thread that commits also reads: a job sent during a commit waits in the socket
    and joins the next group, with no hand-off between threads on its way (that hand-off was
    a tenth of a lone PlaceOrder's time in the writer).
    """
    while True:
        if wait:
            select.select([inbox], [], [])
        while True:
            try:
                chunk = inbox.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                break
            if not chunk:
                return False
            buffer += chunk
        for batch in _unframe(buffer):
            if batch is None:
                return False
            jobs.extend((jid, _load_job(blob)) for jid, blob in batch)
        if jobs or not wait:
            return True
        # Only part of a frame so far: wait for the rest.


def _load_job(blob: bytes) -> Any:
    try:
        return pickle.loads(blob)
    except Exception as exc:  # noqa: BLE001 - e.g. a class the writer cannot import
        return _Unreadable(exc)


def _bind(job: _Job, deps: Any) -> Callable[[Any], Any]:
    from core.service.bus import handle

    work = job[1]
    if isinstance(work, Command):
        return lambda session: handle(session, work, deps)
    if isinstance(work, _Unreadable):
        error = RuntimeError(f"the database writer could not read the command: {work.error}")

        def refuse(session: Any) -> Any:
            raise error
        return refuse
    fn, args = work
    return lambda session: fn(session, *args)


def _answer(outbox: socket.socket, results: list[tuple[int, bool, Any]]) -> None:
    try:
        outbox.sendall(_frame(results))
        return
    except _PICKLE_ERRORS:
        pass
    for jid, ok, value in results:  # one result would not pickle: send the rest as they are
        try:
            frame = _frame([(jid, ok, value)])
        except _PICKLE_ERRORS as exc:
            frame = _frame([(jid, False, RuntimeError(
                f"the database writer could not send back {type(value).__name__}: {exc}"))])
        outbox.sendall(frame)


class ProcessGroupWriter:
    """The parent's side, on its event loop: `await submit(fn, args)` answers after the commit.

    Answers are read on the loop itself (their socket is one of its readers), so answering a
    job costs no thread hand-off.
    """

    def __init__(self, url: str, synchronous: str, max_group: int, config: HandlerConfig,
                 on_commit: Callable[[], None] | None) -> None:
        self._loop = asyncio.get_running_loop()
        jobs_out, jobs_in = socket.socketpair()
        answers_in, answers_out = socket.socketpair()
        # Jobs sent while the writer commits wait in this buffer (it reads between groups):
        # room for megabytes, so the loop's blocking send does not wait on a commit (the
        # kernel caps it at net.core.wmem_max).
        jobs_out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        # A child of its own (not multiprocessing's spawn, which would run the parent's
        # __main__ again in the child): it finds tote where this process found it.
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
        with jobs_in, answers_out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "server.dbwriter", str(jobs_in.fileno()),
                 str(answers_out.fileno()), url, synchronous, str(max_group)],
                pass_fds=[jobs_in.fileno(), answers_out.fileno()], env=env,
                stdin=subprocess.DEVNULL)
        self._jobs = jobs_out  # blocking: a batch is written whole
        self._jobs.sendall(_frame(config))  # first, the handlers' settings
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

    def submit(self, cmd: Command[Any]) -> asyncio.Future[Any]:
        """Queue one command (on the loop's thread); the commands queued while the loop runs
        one iteration go to the writer together. Once sent a command runs, and its answer
        comes back."""
        return self._queue(cmd, type(cmd).__qualname__)

    def submit_call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Queue fn(session, *args) (being replaced by commands)."""
        return self._queue((fn, args), fn.__qualname__)

    def _queue(self, work: Any, name: str) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = self._loop.create_future()
        if self._closed:
            fut.set_exception(Unavailable("the database writer has stopped; retry in a moment"))
            return fut
        try:
            blob = _dumps(work)
        except _PICKLE_ERRORS as exc:
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
            self._jobs.sendall(_frame(batch))
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
        for results in _unframe(self._buffer):
            for jid, ok, value in results:
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
                self._jobs.sendall(_frame(None))
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


def main(argv: list[str]) -> None:
    """`python -m server.dbwriter JOBS_FD ANSWERS_FD URL SYNCHRONOUS MAX_GROUP`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the parent, which stops us
    jobs_fd, answers_fd, url, synchronous, max_group = argv
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    inbox = socket.socket(fileno=int(jobs_fd))
    outbox = socket.socket(fileno=int(answers_fd))
    inbox.setblocking(True)
    outbox.setblocking(True)
    _child(inbox, outbox, url, synchronous, int(max_group))


if __name__ == "__main__":
    # Run as server.dbwriter, not __main__: what the wire pickles refers to this module's
    # functions by that name, in both processes.
    from server.dbwriter import main as _main

    _main(sys.argv[1:])
