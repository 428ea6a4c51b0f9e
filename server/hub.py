"""Fan-out of committed outbox events to live watchers (WatchOrder, WatchOrders).

One poller reads new events from the database for all watchers, woken right after each local
commit and every `interval` seconds (for events written by other replicas), so any number of
watchers costs the saga nothing but one query per wake.

Memory does not grow with the watchers: each event is serialized once into one shared ring
of recent events, and a WatchOrders watcher is only a cursor into it. A watcher that falls
more than the ring behind (its client does not read) is told to resume from the database
(`Behind`) instead of having events queued for it. grpc aio's `yield` waits while the
client's HTTP/2 window is full, so a handler blocked on a non-reading client holds one
message, not a queue (measured: server RSS stays flat, ~4 MB per connection goes no further
than the transport and the kernel's socket buffers). A WatchOrder watcher (one order, a dozen
events in its whole life) keeps references to the ring's entries of its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from core.domain.errors import Unavailable
from core.persistence.models import OrderEvent
from core.service import event_order
from core.service.event_order import Gap
from server import convert
from server.dbexec import DbExecutor

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class Entry:
    """One event as every watcher sends it (serialized once)."""

    seq: int  # its place in the hub's dispatch order (commit order, not id order)
    event_id: int
    order_id: str
    storefront: str
    fc_id: str | None
    type: str
    payload: bytes  # a serialized tote.v1.OrderEvent
    # Every event id up to this one had been dispatched (or given up on) when this entry was:
    # a watcher that got this far may resume with after_event_id=safe and miss nothing.
    safe: int


class Behind(Exception):
    """The watcher fell more than the hub's buffer behind; it should resume from `resume_after`
    (the database has every event)."""

    def __init__(self, resume_after: int) -> None:
        super().__init__(f"fell behind; resume after event {resume_after}")
        self.resume_after = resume_after


@dataclass(eq=False)
class Subscription:
    order_id: str | None
    accept: Callable[[Entry], bool]
    cursor: int = 0  # the next seq to look at (WatchOrders)
    pending: deque[Entry] = field(default_factory=deque)  # this order's entries (WatchOrder)
    # Where the database's history hands over to the live entries: every event id up to
    # live_from was dispatched before this watcher's cursor, except the ids in `gaps`, which
    # come live if they ever commit.
    live_from: int = 0
    gaps: frozenset[int] = frozenset()
    safe: int = 0  # the resume point reached through live entries
    closed: bool = False
    left: bool = False  # unsubscribed


class EventHub:
    def __init__(self, dbx: DbExecutor, interval_s: float = 0.25,
                 buffer_events: int = 10_000) -> None:
        self._dbx = dbx
        self._interval = interval_s
        self._wake = asyncio.Event()
        self._by_order: dict[str, set[Subscription]] = {}
        self._all: set[Subscription] = set()
        self._last_id: int | None = None  # the newest id read
        self._sent = 0  # every id up to this one is dispatched, or never comes
        self._gaps: dict[int, Gap] = {}
        self._held: dict[int, OrderEvent] = {}  # read, above a gap: sent once it is filled
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._ring: deque[Entry] = deque(maxlen=max(1, buffer_events))
        self._next_seq = 0
        self._arrived = asyncio.Event()  # replaced by a new one each time entries arrive
        self._trim: asyncio.TimerHandle | None = None
        self._watchers = self._crowd = 0  # subscriptions now; most at once since the last reset

    @property
    def buffer_events(self) -> int:
        assert self._ring.maxlen is not None
        return self._ring.maxlen

    def wake(self) -> None:
        """Something was committed: look for new events soon (thread-safe).

        With nobody watching there is nothing to look for (the next subscriber starts from
        the newest event then); on the loop's own thread the poller is woken directly, not
        through the loop's self-pipe. Either way a commit costs no system call here.
        """
        loop = self._loop
        if loop is None or not (self._all or self._by_order):
            return
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    _loop: asyncio.AbstractEventLoop | None = None
    _loop_thread: int | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._task = asyncio.create_task(self._run(), name="event-hub")

    async def stop(self) -> None:
        self._closing = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for sub in [*self._all, *(s for subs in self._by_order.values() for s in subs)]:
            sub.closed = True
        self._signal()

    async def subscribe(
        self, order_id: str | None, accept: Callable[[Entry], bool] = lambda e: True
    ) -> Subscription:
        """Receive every event dispatched from now on (for one order, or all orders); the
        events before are the caller's to read from the database: `live_from` and `gaps`
        say which."""
        if self._last_id is None:
            start = await self._start()
            if self._last_id is None:
                self._last_id = self._sent = start
        # From here to the return nothing awaits: the cursor and live_from agree. Events are
        # dispatched in id order, so every event after live_from comes live.
        sub = Subscription(order_id, accept, cursor=self._next_seq, live_from=self._sent)
        sub.safe = sub.live_from
        if order_id is None:
            self._all.add(sub)
        else:
            self._by_order.setdefault(order_id, set()).add(sub)
        self._watchers += 1
        self._crowd = max(self._crowd, self._watchers)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub.left:
            return
        sub.left = sub.closed = True
        self._watchers -= 1
        sub.pending.clear()
        if sub.order_id is None:
            self._all.discard(sub)
        else:
            subs = self._by_order.get(sub.order_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_order[sub.order_id]
        if not self._has_watchers():
            # Commits no longer wake the poller: the next subscriber starts from "now".
            self._reset()

    def _reset(self) -> None:
        if self._last_id is not None:
            self._ring.clear()  # nobody's cursor points into it any more
            if self._loop is not None and self._crowd >= self.CROWD:
                # After a crowd of watchers only (not each time one comes and goes), once
                # grpc has let go of their streams' buffers too.
                if self._trim is not None:
                    self._trim.cancel()
                self._trim = self._loop.call_later(5.0, _trim_heap)
            self._crowd = 0
        self._last_id = None
        self._gaps.clear()
        self._held.clear()

    CROWD = 100  # watchers at once whose leaving is worth giving memory back for

    async def next(self, sub: Subscription) -> Entry:
        """The subscription's next accepted entry, waiting for one; Behind if it fell off
        the buffer; CancelledError once the hub stops."""
        while True:
            if sub.closed:
                raise asyncio.CancelledError("the event hub stopped")
            if sub.order_id is not None:
                if sub.pending:
                    return sub.pending.popleft()
            else:
                ring = self._ring
                base = self._next_seq - len(ring)
                if sub.cursor < base:
                    raise Behind(sub.safe)
                while sub.cursor < self._next_seq:
                    entry = ring[sub.cursor - base]
                    sub.cursor += 1
                    sub.safe = max(sub.safe, entry.safe)
                    if sub.accept(entry):
                        return entry
            await self._arrived.wait()

    def _signal(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    def _has_watchers(self) -> bool:
        return bool(self._all or self._by_order)

    async def _run(self) -> None:
        while not self._closing:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # lands as the wake-up fires, and stop() would then wait for this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            if not self._has_watchers():
                # Nobody listens: forget the position; the next subscriber starts from "now".
                self._reset()
                continue
            try:
                await self._poll()
                self._failing = False
            except Unavailable as exc:  # watchers wait; they get every event once it answers
                if not self._failing:
                    log.warning("event hub poll must wait: %s", exc.message)
                self._failing = True
            except Exception:  # keep serving watchers through a passing database error
                log.exception("event hub poll failed; retrying")
            # Commits arriving meanwhile are read in one batch at the next poll: every
            # watcher wakes at most 1/MIN_GAP_S times a second, however fast orders come.
            await asyncio.sleep(self.MIN_GAP_S)

    MIN_GAP_S = 0.05
    _failing = False  # the last poll met an unavailable database (logged once per outage)

    async def _start(self) -> int:
        """Where a hub with no position starts: the newest event, once every transaction
        that might still commit an id below it has ended (those of saga steps take
        milliseconds); if one stays open, just below the lowest id still missing then."""
        newest, below_hole, running = await self._dbx.read(event_order.start)
        deadline = time.monotonic() + self.START_WAIT_S
        while running:
            now = await self._dbx.read(event_order.running)
            if not (now and running & now):
                return newest
            if time.monotonic() > deadline:
                return below_hole
            await asyncio.sleep(0.01)
        return newest

    START_WAIT_S = 1.0

    async def _poll(self) -> None:
        if self._gaps:
            await self._fill_gaps()
        while (after := self._last_id) is not None:
            batch, running = await self._dbx.read(event_order.after, after, 1000)
            if not batch or self._last_id != after:
                return  # nothing new, or every watcher left meanwhile (the position is reset)
            self._note_gaps(after, [e.event_id for e in batch], running)
            self._held.update((e.event_id, e) for e in batch)
            self._last_id = batch[-1].event_id
            self._release()
            if len(batch) < 1000:
                return

    # PostgreSQL hands out ids when rows are inserted, not when they commit: event 9 may
    # become visible after event 10 (core/service/event_order.py). An id skipped over is a gap;
    # the events after it wait until it commits, or until every transaction that was running
    # when it was found missing has ended (it rolled back), or at most GAP_PATIENCE_S.
    # SQLite's single writer never does this.
    GAP_PATIENCE_S = 10.0

    def _note_gaps(self, last: int, ids: list[int], running: frozenset[int] | None) -> None:
        now = time.monotonic()
        for missing in event_order.missing(last, ids):
            self._gaps.setdefault(missing, Gap(now, running))

    async def _fill_gaps(self) -> None:
        found, running = await self._dbx.read(event_order.by_ids, sorted(self._gaps))
        if self._last_id is None:
            return  # every watcher left meanwhile
        for event in found:
            self._gaps.pop(event.event_id, None)
            self._held[event.event_id] = event
        cutoff = time.monotonic() - self.GAP_PATIENCE_S
        for event_id, gap in list(self._gaps.items()):
            if gap.noticed < cutoff or gap.ended(running):
                del self._gaps[event_id]
        self._release()

    def _release(self) -> None:
        """Dispatch, in id order, the events read that no gap holds back."""
        low = min(self._gaps, default=None)
        ready = sorted(i for i in self._held if low is None or i < low)
        for event_id in ready:
            self._dispatch(self._held.pop(event_id), event_id)
        assert self._last_id is not None
        self._sent = max(self._sent, self._last_id if low is None else low - 1)
        if ready:
            self._signal()

    def _dispatch(self, event: OrderEvent, safe: int) -> None:
        entry = Entry(self._next_seq, event.event_id, event.order_id, event.storefront,
                      event.fc_id, event.type, convert.event_to_pb(event).SerializeToString(),
                      safe)
        self._next_seq += 1
        self._ring.append(entry)
        for sub in self._by_order.get(event.order_id, ()):
            sub.pending.append(entry)


def _trim_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc): once watchers are gone, the
    memory grpc held for their streams is free but would otherwise stay in the process."""
    gc.collect()  # streams that ended by an exception leave cycles (frames, tracebacks)
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)
