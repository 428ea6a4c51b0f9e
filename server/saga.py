"""The saga worker: drives each order through the step table of core/domain/saga.py.

State lives in the database; this worker only decides what to call next. Every gateway call
is recorded (as "authorizing", "voiding", …) before it is made and carries an idempotency key
derived from the order and the step, so a crash anywhere resumes by repeating the same call.
No transaction is open while the gateway is being called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta

from core.domain.order import InventoryState, OrderStatus, PaymentMethod, PaymentState
from core.domain.saga import Decision
from core.service import saga_steps as steps
from core.service.inventory import LockRace
from core.service.routing import RoutingRules
from core.service.saga_steps import SagaState
from server.adapters.errors import GatewayRejected, GatewayUnavailable
from server.adapters.gateway import PaymentGateway
from server.dbexec import DbExecutor, utcnow
from server.intake import IntakeFirst
from server.settings import Settings

log = logging.getLogger(__name__)
# Saga passes under way at once. Below this a kicked order starts at once (unless orders are
# arriving: server/intake.py); above it passes queue (FIFO) instead of all sharing the one GIL
# with PlaceOrder and ScanItem, and the gateway's HTTP pool stays within its keep-alive
# connections instead of churning them.
MAX_PASSES = 16


class SagaRunner:
    def __init__(self, dbx: DbExecutor, gateway: PaymentGateway, settings: Settings,
                 gate: IntakeFirst | None = None) -> None:
        self._dbx = dbx
        self._gateway = gateway
        self._settings = settings
        self._routing = RoutingRules(settings.fulfillment.local_tz,
                                     settings.fulfillment.split_policy)
        self.gate = gate
        self._running: dict[str, asyncio.Task[None]] = {}  # a pass under way
        # Waiting for a pass, oldest first: the state its kicker just committed (if any) and
        # when it was queued (time.monotonic).
        self._queued: dict[str, tuple[SagaState | None, float]] = {}
        self._again: set[str] = set()  # kicked during its pass: one more right after it
        self._wakeup = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._scanner: asyncio.Task[None] | None = None
        self._stopping = False
        self._noted = 0.0  # when the backlog was last logged

    # -- scheduling ---------------------------------------------------------------------------

    def kick(self, order_id: str, known: SagaState | None = None, *,
             urgent: bool = False) -> None:
        """Advance this order: queue a pass (or one more right after the pass under way).

        `known` is the state just committed by the caller (a new order): the first pass then
        starts from it instead of reading it back. `urgent`: someone is waiting on this order
        (a cancellation, a payment's answer) — its pass starts now, ahead of the queue.
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

    @property
    def backlog(self) -> int:
        """Orders waiting for a saga pass."""
        return len(self._queued)

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

    def _start(self, order_id: str, known: SagaState | None) -> None:
        self._running[order_id] = asyncio.create_task(self._pass(order_id, known),
                                                      name=f"saga-{order_id}")

    async def _pass(self, order_id: str, known: SagaState | None) -> None:
        try:
            await self.advance(order_id, known)
        except asyncio.CancelledError:
            raise
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
        """Start queued passes, oldest first, while fewer than MAX_PASSES run and the
        intake gate admits them."""
        while not self._stopping:
            if not self._queued or len(self._running) >= MAX_PASSES:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                if self.gate is not None:
                    await self.gate.admit(self._oldest_wait)
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
        if (self.gate is not None and self.gate.busy and len(self._queued) >= 1000
                and now - self._noted >= 30):
            self._noted = now
            log.info("%d orders wait for their saga while orders keep arriving (the oldest for "
                     "%.1f s); passes start at %g a second until the storefronts pause or one has "
                     "waited %g s (--saga-min-rate, --saga-max-wait-s)", len(self._queued),
                     self._oldest_wait(), self.gate.min_rate, self.gate.max_wait_s)

    async def start(self) -> None:
        if self._dbx.db.is_sqlite:
            # One process owns a SQLite file: sagas leased before a restart are ours to resume.
            await self._dbx.write(steps.release_leases, utcnow())
        self._dispatcher = asyncio.create_task(self._dispatch_forever(), name="saga-dispatch")
        self._scanner = asyncio.create_task(self._scan_forever(), name="saga-scanner")

    async def stop(self) -> None:
        """Stop taking work and cancel passes in flight; their state resumes on next start."""
        self._stopping = True
        self._queued.clear()  # their sagas are due in the database (PlaceOrder's lease)
        helpers = [t for t in (self._scanner, self._dispatcher) if t is not None]
        tasks = [*self._running.values(), *helpers]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _scan_forever(self) -> None:
        lease = self._settings.orders.saga_lease
        while not self._stopping:
            try:
                due = await self._dbx.write(steps.claim_due, utcnow(), lease, 200)
                for order_id in due:
                    self.kick(order_id)
            except Exception:
                log.exception("saga scan failed; retrying")
            await asyncio.sleep(self._settings.saga_scan_interval_s)

    async def _reschedule(self, order_id: str, after_s: float | None) -> None:
        due = None if after_s is None else utcnow() + timedelta(seconds=after_s)
        await self._dbx.write(steps.reschedule, order_id, due)

    # -- one pass -----------------------------------------------------------------------------

    async def advance(self, order_id: str, known: SagaState | None = None) -> None:
        """Take every step that can be taken now; compensate when the saga has failed."""
        st = known or await self._dbx.read(steps.load_state, order_id)
        if st is None:
            return
        if st.status == OrderStatus.PENDING and st.decision == Decision.WAIT:
            committed: list[SagaState | None] = []
            results = await asyncio.gather(self._inventory(st, committed),
                                           self._payment(st, committed))
            # Each step's write returns the state it committed under the row lock. Once one
            # shows PROCESSING this pass has nothing left to do (a later cancel kicks another
            # pass); any other outcome is read back, as both steps' results are needed.
            if any(c is not None and c.status == OrderStatus.PROCESSING
                   and c.decision == Decision.WAIT for c in committed):
                return
            st = await self._dbx.read(steps.load_state, order_id)
            if st is None:
                return
            if st.decision == Decision.WAIT:
                if st.status == OrderStatus.PENDING:  # still waiting for an answer
                    waits = [r for r in results if r is not None]
                    await self._reschedule(order_id, min(waits) if waits else None)
                return
        if st.decision in (Decision.COMPENSATE, Decision.CANCEL):
            await self._compensate(st)

    async def _inventory(
        self, st: SagaState, committed: list[SagaState | None] | None = None
    ) -> float | None:
        """Soft-lock the lines; returns seconds until this step wants another look."""
        if st.inventory != InventoryState.PENDING:
            return None
        for _ in range(5):
            try:
                new = await self._dbx.write(steps.lock_inventory, st.order_id, utcnow(),
                                            self._routing, True)
                if committed is not None:
                    committed.append(new)
                return None
            except LockRace:
                continue
        return self._settings.retry_later_s

    async def _payment(
        self, st: SagaState, committed: list[SagaState | None] | None = None
    ) -> float | None:
        """Authorize the payment; returns seconds until this step wants another look."""
        try:
            if st.payment == PaymentState.AUTHORIZING:
                new = await self._authorize_card(st)
                if committed is not None:
                    committed.append(new)
            elif st.payment == PaymentState.INTENT_REGISTERING:
                return await self._register_intent(st)
            elif st.payment == PaymentState.INTENT_PENDING:
                return await self._check_intent(st)
        except GatewayUnavailable as exc:
            log.warning("gateway unavailable for %s (%s); retrying later", st.order_id, exc)
            return self._settings.retry_later_s
        except GatewayRejected as exc:
            await self._dbx.write(steps.payment_failed, st.order_id,
                                  f"the gateway refused the payment: {exc}", utcnow())
        return None

    async def _authorize_card(self, st: SagaState) -> SagaState | None:
        """Ask for the hold and record the answer; returns the state that was committed."""
        assert st.card_token is not None
        auth = await self._gateway.authorize(
            order_id=st.order_id, token=st.card_token, amount_minor=st.total.amount_minor,
            currency=st.total.currency)
        if auth.status == "authorized":
            assert auth.authorization_id is not None
            return await self._dbx.write(
                steps.payment_authorized, st.order_id, auth.authorization_id,
                st.total.amount_minor, utcnow(),
                f"card hold {auth.authorization_id} for {st.total}")
        return await self._dbx.write(steps.payment_failed, st.order_id,
                                     f"card declined ({auth.decline_code}): {auth.message}",
                                     utcnow())

    async def _register_intent(self, st: SagaState) -> float | None:
        assert st.upi_intent_id and st.upi_vpa and st.upi_expires_at
        await self._gateway.create_upi_intent(
            order_id=st.order_id, intent_id=st.upi_intent_id, vpa=st.upi_vpa,
            amount_minor=st.total.amount_minor, currency=st.total.currency,
            expires_at=int(st.upi_expires_at.timestamp()))
        await self._dbx.write(steps.intent_registered, st.order_id, utcnow())
        return self._until_poll(st.upi_expires_at)

    def _until_poll(self, expires_at: datetime) -> float:
        left = (expires_at - utcnow()).total_seconds()
        return max(0.0, min(self._settings.upi_poll_interval_s, left))

    async def _check_intent(self, st: SagaState) -> float | None:
        """Poll the intent (the webhook's fallback); cancel it once it has expired."""
        assert st.upi_intent_id and st.upi_expires_at
        intent = await self._gateway.get_upi_intent(st.upi_intent_id, order_id=st.order_id)
        if intent.status == "pending" and utcnow() < st.upi_expires_at:
            return self._until_poll(st.upi_expires_at)
        if intent.status == "pending":
            # Withdraw it first, so the customer cannot pay for an order about to be cancelled.
            status = await self._gateway.cancel_upi_intent(order_id=st.order_id,
                                                           intent_id=st.upi_intent_id)
            if status == "approved":  # approved just before the cancel arrived
                intent = await self._gateway.get_upi_intent(st.upi_intent_id,
                                                            order_id=st.order_id)
        if intent.status in ("pending", "expired", "cancelled"):
            minutes = self._settings.orders.upi_expiry.total_seconds() / 60
            await self._dbx.write(
                steps.payment_failed, st.order_id,
                f"UPI payment not approved within {minutes:g} minutes; intent withdrawn",
                utcnow())
            return None
        await self.record_intent(st.order_id, intent.status, intent.payment_id,
                                 intent.amount_minor)
        return None

    async def record_intent(
        self, order_id: str, status: str, payment_id: str | None, amount_minor: int,
        webhook_event_id: str | None = None,
    ) -> bool:
        """Apply a UPI intent's outcome (from a webhook or a poll); False for a duplicate."""
        fresh = await self._dbx.write(_apply_intent, order_id, status, payment_id, amount_minor,
                                      webhook_event_id, utcnow())
        self.kick(order_id, urgent=True)
        return fresh

    # -- compensation -------------------------------------------------------------------------

    async def _compensate(self, st: SagaState) -> None:
        try:
            await asyncio.gather(self._undo_payment(st), self._undo_inventory(st))
        except (GatewayUnavailable, GatewayRejected) as exc:
            log.warning("compensation for %s must wait: %s", st.order_id, exc)
            await self._reschedule(st.order_id, self._settings.retry_later_s)
            return
        await self._dbx.write(steps.finish_cancel, st.order_id, utcnow())

    async def _undo_inventory(self, st: SagaState) -> None:
        if st.inventory in (InventoryState.LOCKED, InventoryState.PENDING):
            await self._dbx.write(steps.release_inventory, st.order_id, utcnow())

    async def _undo_payment(self, st: SagaState) -> None:
        if st.payment == PaymentState.AUTHORIZING:
            # The outcome of the hold is unknown: ask again with the same key, then undo it.
            await self._authorize_card(st)
            latest = await self._dbx.read(steps.load_state, st.order_id)
            st = latest or st
        if st.payment in (PaymentState.AUTHORIZED, PaymentState.COD_PENDING,
                          PaymentState.INTENT_PENDING, PaymentState.INTENT_REGISTERING):
            undoing = await self._dbx.write(steps.begin_payment_compensation, st.order_id,
                                            utcnow())
            if undoing is None:  # no such order any more: nothing left to undo
                return
            st = undoing
        if st.payment != PaymentState.VOIDING:
            return
        if st.method == PaymentMethod.CARD:
            assert st.authorization_id is not None
            await self._gateway.void(order_id=st.order_id, authorization_id=st.authorization_id)
            await self._dbx.write(steps.payment_compensated, st.order_id, False, utcnow(),
                                  f"card hold {st.authorization_id} voided")
            return
        # UPI: withdraw the intent; if the customer had already paid, refund the debit.
        payment_id = st.authorization_id
        if payment_id is None:
            assert st.upi_intent_id is not None
            status = await self._gateway.cancel_upi_intent(order_id=st.order_id,
                                                           intent_id=st.upi_intent_id)
            if status != "approved":
                await self._dbx.write(steps.payment_compensated, st.order_id, False, utcnow(),
                                      f"UPI intent {st.upi_intent_id} cancelled")
                return
            intent = await self._gateway.get_upi_intent(st.upi_intent_id, order_id=st.order_id)
            payment_id = intent.payment_id
        assert payment_id is not None
        await self._gateway.refund(order_id=st.order_id, capture_id=payment_id,
                                   amount_minor=st.total.amount_minor, currency=st.total.currency)
        await self._dbx.write(steps.payment_compensated, st.order_id, True, utcnow(),
                              f"UPI payment {payment_id} refunded ({st.total})",
                              st.total.amount_minor)


def _apply_intent(session, order_id: str, status: str, payment_id: str | None,
                  amount_minor: int, webhook_event_id: str | None, now: datetime) -> bool:
    if webhook_event_id is not None and steps.webhook_seen(session, webhook_event_id,
                                                           f"upi.intent.{status}", now):
        return False
    if status == "approved" and payment_id:
        steps.payment_authorized(session, order_id, payment_id, amount_minor, now,
                                 f"UPI payment {payment_id} approved by the customer")
    elif status in ("declined", "expired", "cancelled"):
        steps.payment_failed(session, order_id, f"UPI intent {status} by the customer's app"
                             if status == "declined" else f"UPI intent {status}", now)
    return True
