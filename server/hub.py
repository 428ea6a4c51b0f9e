"""Fan-out of committed outbox events to live watchers (WatchOrder, WatchOrders).

One poller reads new events from the database for all watchers, woken right after each local
commit and every `interval` seconds (for events written by other replicas), so any number of
watchers costs the saga nothing but one query per wake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.persistence.models import OrderEvent
from core.service import events
from server.dbexec import DbExecutor

log = logging.getLogger(__name__)


class Overflow(Exception):
    """A watcher fell too far behind; it should reconnect from its last event id."""


@dataclass(eq=False)
class Subscription:
    order_id: str | None
    accept: Callable[[OrderEvent], bool]
    queue: asyncio.Queue[OrderEvent | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=10_000))
    overflowed: bool = False

    async def next(self) -> OrderEvent:
        item = await self.queue.get()
        if item is None:
            raise Overflow("too many events queued for this watcher")
        return item


class EventHub:
    def __init__(self, dbx: DbExecutor, interval_s: float = 0.25) -> None:
        self._dbx = dbx
        self._interval = interval_s
        self._wake = asyncio.Event()
        self._by_order: dict[str, set[Subscription]] = {}
        self._all: set[Subscription] = set()
        self._last_id: int | None = None
        self._gaps: dict[int, float] = {}
        self._closing = False
        self._task: asyncio.Task[None] | None = None

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
            sub.queue.put_nowait(None) if not sub.queue.full() else None

    async def subscribe(
        self, order_id: str | None, accept: Callable[[OrderEvent], bool] = lambda e: True
    ) -> Subscription:
        """Receive every event committed from now on (for one order, or all orders)."""
        sub = Subscription(order_id, accept)
        if order_id is None:
            self._all.add(sub)
        else:
            self._by_order.setdefault(order_id, set()).add(sub)
        if self._last_id is None:
            # Events committed before this point are the caller's to read from history.
            newest = await self._dbx.read(events.last_event_id)
            if self._last_id is None:
                self._last_id = newest
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
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
            self._last_id = None
            self._gaps.clear()

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
                self._last_id = None
                self._gaps.clear()
                continue
            try:
                await self._poll()
            except Exception:  # keep serving watchers through a passing database error
                log.exception("event hub poll failed; retrying")

    async def _poll(self) -> None:
        if self._gaps:
            await self._fill_gaps()
        while (after := self._last_id) is not None:
            batch = await self._dbx.read(events.after, after, 1000)
            if not batch or self._last_id != after:
                return  # nothing new, or every watcher left meanwhile (the position is reset)
            self._note_gaps(after, [e.event_id for e in batch])
            for event in batch:
                self._dispatch(event)
            self._last_id = batch[-1].event_id
            if len(batch) < 1000:
                return

    # PostgreSQL hands out ids when rows are inserted, not when they commit: event 9 may
    # become visible after event 10. An id skipped over is a gap, looked for again for a while
    # (a rolled-back transaction leaves a gap for ever). SQLite's single writer never does this.
    GAP_PATIENCE_S = 10.0

    def _note_gaps(self, last: int, ids: list[int]) -> None:
        seen = set(ids)
        now = time.monotonic()
        for missing in range(last + 1, ids[-1]):
            if missing not in seen:
                self._gaps.setdefault(missing, now)

    async def _fill_gaps(self) -> None:
        found = await self._dbx.read(events.by_ids, sorted(self._gaps))
        for event in found:
            self._gaps.pop(event.event_id, None)
            self._dispatch(event)
        cutoff = time.monotonic() - self.GAP_PATIENCE_S
        for event_id in [i for i, t in self._gaps.items() if t < cutoff]:
            del self._gaps[event_id]

    def _dispatch(self, event: OrderEvent) -> None:
        targets = [*self._all, *self._by_order.get(event.order_id, ())]
        for sub in targets:
            if sub.overflowed or not sub.accept(event):
                continue
            if sub.queue.qsize() >= sub.queue.maxsize - 1:
                sub.overflowed = True
                sub.queue.put_nowait(None)
            else:
                sub.queue.put_nowait(event)
