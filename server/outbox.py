"""The outbox consumers' workers: each reads order_events from its durable position.

One task per consumer runs batch after batch while there are events, then waits for a
wake-up: right after each local commit (the hub's wake-up), or every `interval_s` (events
written by other replicas, ids PostgreSQL committed out of order). With PostgreSQL replicas
one replica at a time runs each consumer, the holder of its worker lease (server/leases.py,
named `outbox-<consumer>`); a replica that dies hands it over within a lease. Even two
replicas running one consumer at once (a handover) handle each event once: the position is
read FOR UPDATE in the transaction that moves it. On SQLite one process owns the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING

from core.domain.errors import Unavailable
from core.domain.outbox_commands import AdvanceTableConsumer, Gaps, OpenConsumers
from core.persistence.models import utcnow
from core.service import events
from server.dbexec import DbExecutor
from server.leases import WorkerLease

if TYPE_CHECKING:
    from server.metrics import Metrics

log = logging.getLogger(__name__)


class ConsumerWorker(ABC):
    """One outbox consumer's task; a subclass says what a batch is (`batch`)."""

    def __init__(self, dbx: DbExecutor, consumer: str, interval_s: float,
                 lease: timedelta) -> None:
        self._dbx, self.consumer, self._interval_s = dbx, consumer, interval_s
        self.name = f"outbox consumer {consumer}"
        self.lease = WorkerLease(dbx, f"outbox-{consumer}", lease)
        self.metrics: Metrics | None = None
        self.position: int | None = None  # as last seen (None: not yet)
        self.gaps: Gaps = ()  # ids missing above the position: checked again each run
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    GAP_PAUSE_S = 0.05
    # After a run that handled events, the next one waits at least this long: under a stream
    # of orders every commit wakes every consumer, and a transaction per commit per consumer
    # cost the saga a third of its throughput on PostgreSQL (bench/saga.py --db); this way
    # each consumer's transaction takes a tenth of a second's events. (A full batch goes on
    # at once; an event after a quiet spell, at once.)
    PACE_S = 0.1

    @abstractmethod
    async def batch(self) -> bool:
        """Handle the next batch of events; True when more wait at once."""

    def wake(self) -> None:
        """Something was committed: look for new events soon (thread-safe)."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        await self.lease.start()
        self._task = asyncio.create_task(self._forever(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.lease.stop()

    async def run_once(self) -> bool:
        """Batches while there are events (and the lease is ours); whether it ran any."""
        ran = False
        while self.lease.held and await self._due():
            ran = True
            if not await self.batch():
                break
        return ran

    async def _due(self) -> bool:
        """Whether anything may be there to handle: a read, not a write, so that the commit
        of a batch (which wakes every consumer) costs an idle consumer no transaction."""
        if self.position is None or self.gaps:
            return True
        return await self._dbx.read(events.last_event_id) > self.position

    def _at(self, position: int, newest: int) -> None:
        self.position = position
        if self.metrics is not None:
            self.metrics.consumer_at(self.consumer, position, newest)

    async def _forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                ran = await self.run_once()
                self._failing = False
                if ran:
                    await asyncio.sleep(self.PACE_S)
                elif self.gaps:
                    # Waiting for an id below to commit: each run commits (and so wakes every
                    # consumer), so look again after a pause, not at once.
                    await asyncio.sleep(self.GAP_PAUSE_S)
            except Unavailable as exc:  # the database away: the next wake-up tries again
                if not self._failing:
                    log.warning("%s must wait: %s", self.name, exc.message)
                self._failing = True
            except Exception:  # a bad batch must not end the consumer for good
                log.exception("%s failed; trying again in %.1f s", self.name, self._interval_s)
                await asyncio.sleep(self._interval_s)


class TableConsumer(ConsumerWorker):
    """A table consumer (core/service/outbox.py): each batch is one command, which hands the
    events to its fan_out and moves its position in one transaction."""

    def __init__(self, dbx: DbExecutor, consumer: str, interval_s: float, lease: timedelta,
                 batch_events: int = 500) -> None:
        super().__init__(dbx, consumer, interval_s, lease)
        self._limit = batch_events

    async def batch(self) -> bool:
        progress = await self._dbx.execute(
            AdvanceTableConsumer(self.consumer, self.gaps, self._limit, utcnow()))
        self.gaps = progress.gaps
        self._at(progress.position, progress.newest)
        return progress.more


async def open_consumers(dbx: DbExecutor, names: list[str]) -> None:
    """Give each consumer without a position one at the newest event, before the server takes
    its first order (so a consumer new to this database misses none of them)."""
    if names:
        await dbx.execute(OpenConsumers(tuple(names), utcnow()))
