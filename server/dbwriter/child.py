"""The SQLite writer process itself (`python -m server.dbwriter`): it reads batches of commands
from tote serve, runs them in groups (server/dbgroup.py) and sends each answer back once its
group is committed.

Its one thread both reads jobs (between groups) and commits them. It ignores SIGINT (the parent
shuts it down) and exits when the parent's end closes, so a parent killed outright leaves no
writer behind; whatever group was in flight commits or not, like a crash in a COMMIT.
"""

from __future__ import annotations

import collections
import logging
import select
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from server.dbwriter import wire

# (job id, its command: unpickled, or why it could not be)
_Job = tuple[int, Any]


class _Unreadable:
    """A job whose command the writer could not unpickle: answered with why, not run."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


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
           max_group: int, timed: bool = False) -> None:
    from core.persistence.db import Database
    from core.service.deps import Deps
    from server.dbgroup import run_group

    header = _recv_exactly(inbox, wire.HEADER.size)
    if header is None:
        return
    blob = _recv_exactly(inbox, wire.HEADER.unpack(header)[0])
    if blob is None:
        return
    deps = Deps.for_process(wire.loads(blob))
    db = Database(url, sqlite_synchronous=synchronous)
    retries = [0]  # since the last group's report (tote serve's metrics, when `timed`)
    db.on_retry = lambda: retries.__setitem__(0, retries[0] + 1)
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
            started = time.perf_counter()
            outcomes = run_group(db, [_bind(job, deps) for job in group])
            answers = [(job[0], ok, value) for job, (ok, value)
                       in zip(group, outcomes, strict=True)]
            if timed:
                answers.append((wire.GROUP_TIMING, True,
                                (time.perf_counter() - started, retries[0])))
                retries[0] = 0
            _answer(outbox, answers)
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
        for batch in wire.unframe(buffer):
            if batch is None:
                return False
            jobs.extend((jid, _load_job(blob)) for jid, blob in batch)
        if jobs or not wait:
            return True
        # Only part of a frame so far: wait for the rest.


def _load_job(blob: bytes) -> Any:
    try:
        return wire.loads(blob)
    except Exception as exc:  # noqa: BLE001 - e.g. a class the writer cannot import
        return _Unreadable(exc)


def _bind(job: _Job, deps: Any) -> Callable[[Any], Any]:
    from core.service.bus import handle

    work = job[1]
    if isinstance(work, _Unreadable):
        error = RuntimeError(f"the database writer could not read the command: {work.error}")

        def refuse(session: Any) -> Any:
            raise error
        return refuse
    if isinstance(work, tuple):  # (command, shape): the answer shaped here
        cmd, shape = work
        return lambda session: shape(handle(session, cmd, deps))
    # (Not a Command at all: bus.handle refuses it with a TypeError naming its type.)
    return lambda session: handle(session, work, deps)


def _answer(outbox: socket.socket, results: list[tuple[int, bool, Any]]) -> None:
    try:
        outbox.sendall(wire.frame(results))
        return
    except wire.PICKLE_ERRORS:
        pass
    for jid, ok, value in results:  # one result would not pickle: send the rest as they are
        try:
            frame = wire.frame([(jid, ok, value)])
        except wire.PICKLE_ERRORS as exc:
            frame = wire.frame([(jid, False, RuntimeError(
                f"the database writer could not send back {type(value).__name__}: {exc}"))])
        outbox.sendall(frame)


def main(argv: list[str]) -> None:
    """`python -m server.dbwriter JOBS_FD ANSWERS_FD URL SYNCHRONOUS MAX_GROUP [metrics]`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the parent, which stops us
    jobs_fd, answers_fd, url, synchronous, max_group, *flags = argv
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    inbox = socket.socket(fileno=int(jobs_fd))
    outbox = socket.socket(fileno=int(answers_fd))
    inbox.setblocking(True)
    outbox.setblocking(True)
    _child(inbox, outbox, url, synchronous, int(max_group), timed="metrics" in flags)
