"""The saga queue: which order's saga gets a pass, and when. Each pass is the one runner's
(core/saga/runner.py) over the order saga's table (core/saga/order.py).

State lives in the database; this queue holds only orders waiting for a pass and the passes
under way. A saga that waits on an answer is due again in the database (its lease), found by
the scan; PlaceOrder, a cancellation, a payment's answer kick it at once. While orders are
arriving, queued passes give way to them (orders first, server/intake.py, the queue's own
admission policy: PlaceOrder tells the queue through `placing()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

from core.domain.errors import Unavailable
from core.domain.saga import SagaState
from core.domain.saga_commands import (
    ApplyUpiIntent,
    ClaimDueSagas,
    ReleaseSagaLeases,
    RenewSagaLeases,
    RescheduleSaga,
)
from core.saga import runner
from core.saga.runner import SagaTable
from server.dbexec import DbExecutor, utcnow
from server.intake import OrdersFirst
from server.settings import Settings

log = logging.getLogger(__name__)
# Saga passes under way at once. Below this a kicked order starts at once (unless orders are
# arriving: server/intake.py); above it passes queue (FIFO) instead of all sharing the one GIL
# with PlaceOrder and ScanItem, and the gateway's HTTP pool stays within its keep-alive
# connections instead of churning them.
MAX_PASSES = 16
_NOT_ADMITTING = contextlib.nullcontext()  # orders first is off: PlaceOrder changes nothing


class SagaRunner:
    """The order saga's queue of passes, with orders first as its admission policy."""

    def __init__(self, dbx: DbExecutor, table: SagaTable[SagaState], settings: Settings,
                 ) -> None:
        self._dbx = dbx
        self._table = table
        self._settings = settings
        self._admission = (OrdersFirst(settings.saga_min_rate,
                                       max_wait_s=settings.saga_max_wait_s)
                           if settings.orders_first else None)
        self._running: dict[str, asyncio.Task[None]] = {}  # a pass under way
        # Waiting for a pass, oldest first: the state its kicker just committed (if any) and
        # when it was queued (time.monotonic).
        self._queued: dict[str, tuple[SagaState | None, float]] = {}
        self._again: set[str] = set()  # kicked during its pass: one more right after it
        self._wakeup = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._scanner: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._stopping = False
        self._noted = 0.0  # when the backlog was last logged
        self.takeovers = 0  # lapsed saga leases claimed by this replica (tote_lease_takeovers)
        # (worker, how many): told of each takeover (tote_lease_takeovers_total{worker}).
        self.on_takeover: Callable[[str, int], None] | None = None

    # -- what others tell the queue -----------------------------------------------------------

    def placing(self) -> AbstractContextManager[object]:
        """Around one PlaceOrder call: while orders arrive, queued passes give way to them."""
        return self._admission.placing() if self._admission is not None else _NOT_ADMITTING

    def kick(self, order_id: str, known: SagaState | None = None, *,
             urgent: bool = False) -> None:
        """Advance this order: queue a pass (or one more right after the pass under way).

        `known` is the state just committed by the caller (a new order): the first pass then
        starts from it instead of reading it back. `urgent`: someone is waiting on this order
        (a cancellation, a payment's answer) — its pass starts now, ahead of the queue and of
        orders first.
        """
        if self._stopping:
            return
        if order_id in self._running:
            self._again.add(order_id)
            return
        if urgent:
            self._queued.pop(order_id, None)  # its queued state may be stale: read afresh
            self._start(order_id, None)
            return
        if order_id not in self._queued:
            self._queued[order_id] = (known, time.monotonic())
            self._wakeup.set()

    async def record_intent(
        self, order_id: str, status: str, payment_id: str | None, amount_minor: int,
        webhook_event_id: str | None = None,
    ) -> bool:
        """Apply a UPI intent's outcome (from a webhook); False for a duplicate."""
        fresh = await self._dbx.execute(ApplyUpiIntent(order_id, status, payment_id,
                                                       amount_minor, webhook_event_id, utcnow()))
        self.kick(order_id, urgent=True)
        return fresh

    @property
    def backlog(self) -> int:
        """Orders waiting for a saga pass."""
        return len(self._queued)

    @property
    def in_flight(self) -> int:
        """Saga passes under way in this process."""
        return len(self._running)

    async def settle(self, order_id: str) -> None:
        """Wait until no pass is running or queued for this order."""
        while True:
            if order_id not in self._running and order_id in self._queued:
                self.kick(order_id, urgent=True)  # someone waits on it: no more queueing
            task = self._running.get(order_id)
            if task is None:
                return
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    # -- passes -------------------------------------------------------------------------------

    def _start(self, order_id: str, known: SagaState | None) -> None:
        self._running[order_id] = asyncio.create_task(self._pass(order_id, known),
                                                      name=f"saga-{order_id}")

    async def _pass(self, order_id: str, known: SagaState | None) -> None:
        try:
            done = await runner.run(self._table, order_id, known)
            if done.waiting:  # on an answer: due again when the step wants another look
                await self._reschedule(order_id, done.retry_in)
        except asyncio.CancelledError:
            raise
        except Unavailable as exc:  # the database away: its lease brings it back to a scan
            log.warning("saga pass for %s must wait: %s", order_id, exc.message)
            with contextlib.suppress(Exception):
                await self._reschedule(order_id, self._settings.retry_later_s)
        except Exception:
            log.exception("saga pass for %s failed; it will be retried", order_id)
            with contextlib.suppress(Exception):
                await self._reschedule(order_id, self._settings.retry_later_s)
        finally:
            del self._running[order_id]
            if order_id in self._again and not self._stopping:
                self._again.discard(order_id)
                # Kicked while this pass ran: once more, from the state as it is now, in the
                # slot this pass frees.
                self._start(order_id, None)
            self._wakeup.set()

    async def _dispatch_forever(self) -> None:
        """Start queued passes, oldest first, while fewer than MAX_PASSES run and orders
        first admits them."""
        while not self._stopping:
            if not self._queued or len(self._running) >= MAX_PASSES:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                if self._admission is not None:
                    await self._admission.admit(self._oldest_wait)
                    self._note_backlog()
            except Exception:  # the queue must keep moving whatever went wrong here
                log.exception("saga admission failed; starting the next pass anyway")
                await asyncio.sleep(0.1)
            if not self._queued:  # taken by an urgent kick meanwhile
                continue
            order_id = next(iter(self._queued))
            known, _queued_at = self._queued.pop(order_id)
            if order_id in self._running:
                self._again.add(order_id)
            else:
                self._start(order_id, known)

    def _oldest_wait(self) -> float:
        """Seconds the saga at the head of the queue has waited for its pass."""
        for _known, queued_at in self._queued.values():
            return time.monotonic() - queued_at
        return 0.0

    def _note_backlog(self) -> None:
        """Say so, now and then, when many sagas wait while orders keep arriving."""
        now = time.monotonic()
        a = self._admission
        if (a is not None and a.busy and len(self._queued) >= 1000
                and now - self._noted >= 30):
            self._noted = now
            log.info("%d orders wait for their saga while orders keep arriving (the oldest for "
                     "%.1f s); passes start at %g a second until the storefronts pause or one has "
                     "waited %g s (--saga-min-rate, --saga-max-wait-s)", len(self._queued),
                     self._oldest_wait(), a.min_rate, a.max_wait_s)

    # -- the scan and the leases ----------------------------------------------------------------

    async def start(self) -> None:
        if self._dbx.db.is_sqlite:
            # One process owns a SQLite file: sagas leased before a restart are ours to resume.
            await self._dbx.execute(ReleaseSagaLeases(utcnow()))
        self._dispatcher = asyncio.create_task(self._dispatch_forever(), name="saga-dispatch")
        self._scanner = asyncio.create_task(self._scan_forever(), name="saga-scanner")
        if not self._dbx.db.is_sqlite:  # (one process owns a SQLite file: no one to keep out)
            self._renewer = asyncio.create_task(self._renew_forever(), name="saga-leases")

    async def stop(self) -> None:
        """Stop taking work and cancel passes in flight; their state resumes on next start."""
        self._stopping = True
        held = tuple(dict.fromkeys([*self._running, *self._queued]))
        self._queued.clear()  # their sagas are due in the database (PlaceOrder's lease)
        helpers = [t for t in (self._scanner, self._dispatcher, self._renewer) if t is not None]
        tasks = [*self._running.values(), *helpers]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if held and not self._dbx.db.is_sqlite:
            # Other replicas take them at once, not after the lease.
            with contextlib.suppress(Exception):
                await self._dbx.execute(ReleaseSagaLeases(utcnow(), held))

    async def _scan_forever(self) -> None:
        lease = self._settings.orders.saga_lease
        failing = False
        while not self._stopping:
            try:
                due = await self._dbx.execute(ClaimDueSagas(utcnow(), lease, 200))
                if due.takeovers:
                    self.takeovers += due.takeovers
                    if self.on_takeover is not None:
                        self.on_takeover("saga", due.takeovers)
                    log.info("took over %d sagas from a replica whose lease expired",
                             due.takeovers)
                for order_id in due.order_ids:
                    self.kick(order_id)
                failing = False
            except Unavailable as exc:  # once per outage, then quiet until it answers
                if not failing:
                    log.warning("saga scan must wait: %s", exc.message)
                failing = True
            except Exception:
                log.exception("saga scan failed; retrying")
            await asyncio.sleep(self._settings.saga_scan_interval_s)

    async def _renew_forever(self) -> None:
        """Keep the leases of the sagas this replica holds (queued or in a pass): a saga waiting
        in the queue longer than the lease is not run by another replica meanwhile."""
        lease = self._settings.orders.saga_lease
        while not self._stopping:
            await asyncio.sleep(lease.total_seconds() / 3)
            held = tuple(dict.fromkeys([*self._running, *self._queued]))
            if not held:
                continue
            try:
                await self._dbx.execute(RenewSagaLeases(held, utcnow(), lease))
            except Exception:
                log.exception("renewing saga leases failed; retrying")

    async def _reschedule(self, order_id: str, after_s: float | None) -> None:
        due = None if after_s is None else utcnow() + timedelta(seconds=after_s)
        await self._dbx.execute(RescheduleSaga(order_id, due))
