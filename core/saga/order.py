"""The order saga, from Order_Created to PROCESSING or CANCELLED, as the table the runner executes.

    step       action                                   succeeded / failed
    inventory  soft-lock every line where routing says  Inventory_Locked / Inventory_Failure
    payment    card hold, UPI intent (registered, then  Payment_Authorized / Payment_Failed
               polled as the webhook's fallback), COD
               accepted as it is
    (both done: Order_Ready_for_Fulfillment, PROCESSING, committed by the write of the
    step that finishes last)

    step       compensation                             compensated
    inventory  release the soft locks                   Inventory_Released
    payment    void the hold / cancel the intent        Payment_Voided (Payment_Refunded
               (refund a UPI debit)                     for a debit)
    (everything undone: Order_Cancelled, CANCELLED with the reason)

Both steps run side by side. Every gateway call is recorded ("authorizing", "voiding", …)
before it is made, with no transaction open, and carries an idempotency key from the order and
the step: a crash anywhere resumes by repeating the same call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.domain.events import EventType
from core.domain.order import PaymentMethod, PaymentState
from core.domain.saga import SagaState, inventory_outcome, order_in_play, payment_outcome
from core.domain.saga_commands import (
    ApplyUpiIntent,
    BeginPaymentCompensation,
    FinishCancel,
    LockInventory,
    RecordIntentRegistered,
    RecordPaymentAuthorized,
    RecordPaymentCompensated,
    RecordPaymentFailed,
    ReleaseInventory,
)
from core.saga.runner import Answer, SagaTable, Step
from core.service import saga_steps
from core.service.inventory import LockRace
from core.service.ports import Bus, GatewayRejected, GatewayUnavailable, PaymentGateway

log = logging.getLogger(__name__)
LOCK_ATTEMPTS = 5  # soft-locking again at once after a race with another order's lock


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OrderSagaTimes:
    """The order saga's waits (from the server's settings)."""

    retry_later_s: float = 5.0  # an outside party that did not answer is asked again after this
    upi_poll_interval_s: float = 10.0  # the webhook's fallback: the intent is polled this often
    upi_expiry: timedelta = timedelta(minutes=10)


def order_saga(bus: Bus, gateway: PaymentGateway, times: OrderSagaTimes,
               clock: Callable[[], datetime] = utcnow) -> SagaTable[SagaState]:
    """The order saga's table, its steps bound to this bus and gateway."""
    s = _OrderSteps(bus, gateway, times, clock)
    return SagaTable(
        name="order",
        steps=(
            Step("inventory", action=s.lock_inventory,
                 outcome=lambda st: inventory_outcome(st.inventory),
                 succeeded=EventType.INVENTORY_LOCKED, failed=EventType.INVENTORY_FAILURE,
                 compensation=s.release_inventory, compensated=EventType.INVENTORY_RELEASED),
            Step("payment", action=s.take_payment,
                 outcome=lambda st: payment_outcome(st.payment),
                 succeeded=EventType.PAYMENT_AUTHORIZED, failed=EventType.PAYMENT_FAILED,
                 compensation=s.undo_payment, compensated=EventType.PAYMENT_VOIDED),
        ),
        side_by_side=True,
        load=s.load,
        in_play=lambda st: order_in_play(st.status, st.cancel_requested),
        cancel_requested=lambda st: st.cancel_requested,
        complete=None,
        completed=(EventType.ORDER_READY_FOR_FULFILLMENT,),
        cancel=s.finish_cancel,
        cancelled=(EventType.ORDER_CANCELLED,),
        # An undo the gateway did not answer or refused is tried again later.
        wait_on=(GatewayUnavailable, GatewayRejected),
        retry_later_s=times.retry_later_s,
    )


class _OrderSteps:
    """The order saga's actions and compensations (the table above says when each runs)."""

    def __init__(self, bus: Bus, gateway: PaymentGateway, times: OrderSagaTimes,
                 clock: Callable[[], datetime]) -> None:
        self._bus = bus
        self._gateway = gateway
        self._times = times
        self._now = clock

    async def load(self, order_id: str) -> SagaState | None:
        return await self._bus.read(saga_steps.load_state, order_id)

    # -- inventory ------------------------------------------------------------------------------

    async def lock_inventory(self, st: SagaState) -> Answer[SagaState]:
        for _ in range(LOCK_ATTEMPTS):
            try:
                return Answer(state=await self._bus.execute(LockInventory(st.order_id,
                                                                          self._now())))
            except LockRace:
                continue
        return Answer(retry_in=self._times.retry_later_s)

    async def release_inventory(self, st: SagaState) -> None:
        await self._bus.execute(ReleaseInventory(st.order_id, self._now()))

    # -- payment --------------------------------------------------------------------------------

    async def take_payment(self, st: SagaState) -> Answer[SagaState]:
        try:
            if st.payment == PaymentState.AUTHORIZING:
                return Answer(state=await self._authorize_card(st))
            if st.payment == PaymentState.INTENT_REGISTERING:
                return await self._register_intent(st)
            if st.payment == PaymentState.INTENT_PENDING:
                return await self._check_intent(st)
        except GatewayUnavailable as exc:
            log.warning("gateway unavailable for %s (%s); retrying later", st.order_id, exc)
            return Answer(retry_in=self._times.retry_later_s)
        except GatewayRejected as exc:
            return Answer(state=await self._bus.execute(RecordPaymentFailed(
                st.order_id, f"the gateway refused the payment: {exc}", self._now())))
        return Answer(outcome=payment_outcome(st.payment))

    async def _authorize_card(self, st: SagaState) -> SagaState | None:
        """Ask for the hold and record the answer; the state that was committed."""
        assert st.card_token is not None
        auth = await self._gateway.authorize(
            order_id=st.order_id, token=st.card_token, amount_minor=st.total.amount_minor,
            currency=st.total.currency)
        if auth.status == "authorized":
            assert auth.authorization_id is not None
            return await self._bus.execute(RecordPaymentAuthorized(
                st.order_id, auth.authorization_id, st.total.amount_minor, self._now(),
                f"card hold {auth.authorization_id} for {st.total}"))
        return await self._bus.execute(RecordPaymentFailed(
            st.order_id, f"card declined ({auth.decline_code}): {auth.message}", self._now()))

    async def _register_intent(self, st: SagaState) -> Answer[SagaState]:
        assert st.upi_intent_id and st.upi_vpa and st.upi_expires_at
        await self._gateway.create_upi_intent(
            order_id=st.order_id, intent_id=st.upi_intent_id, vpa=st.upi_vpa,
            amount_minor=st.total.amount_minor, currency=st.total.currency,
            expires_at=int(st.upi_expires_at.timestamp()))
        new = await self._bus.execute(RecordIntentRegistered(st.order_id, self._now()))
        return Answer(state=new, retry_in=self._until_poll(st.upi_expires_at))

    def _until_poll(self, expires_at: datetime) -> float:
        left = (expires_at - self._now()).total_seconds()
        return max(0.0, min(self._times.upi_poll_interval_s, left))

    async def _check_intent(self, st: SagaState) -> Answer[SagaState]:
        """Poll the intent (the webhook's fallback); cancel it once it has expired."""
        assert st.upi_intent_id and st.upi_expires_at
        intent = await self._gateway.get_upi_intent(st.upi_intent_id, order_id=st.order_id)
        if intent.status == "pending" and self._now() < st.upi_expires_at:
            return Answer(retry_in=self._until_poll(st.upi_expires_at))
        if intent.status == "pending":
            # Withdraw it first, so the customer cannot pay for an order about to be cancelled.
            status = await self._gateway.cancel_upi_intent(order_id=st.order_id,
                                                           intent_id=st.upi_intent_id)
            if status == "approved":  # approved just before the cancel arrived
                intent = await self._gateway.get_upi_intent(st.upi_intent_id,
                                                            order_id=st.order_id)
        if intent.status in ("pending", "expired", "cancelled"):
            minutes = self._times.upi_expiry.total_seconds() / 60
            return Answer(state=await self._bus.execute(RecordPaymentFailed(
                st.order_id,
                f"UPI payment not approved within {minutes:g} minutes; intent withdrawn",
                self._now())))
        await self._bus.execute(ApplyUpiIntent(st.order_id, intent.status, intent.payment_id,
                                               intent.amount_minor, None, self._now()))
        return Answer()  # what the intent's outcome did is read back

    async def undo_payment(self, st: SagaState) -> None:
        if st.payment == PaymentState.AUTHORIZING:
            # The outcome of the hold is unknown: ask again with the same key, then undo it.
            await self._authorize_card(st)
            st = await self.load(st.order_id) or st
        if st.payment in (PaymentState.AUTHORIZED, PaymentState.COD_PENDING,
                          PaymentState.INTENT_PENDING, PaymentState.INTENT_REGISTERING):
            undoing = await self._bus.execute(BeginPaymentCompensation(st.order_id, self._now()))
            if undoing is None:  # no such order any more: nothing left to undo
                return
            st = undoing
        if st.payment != PaymentState.VOIDING:
            return
        if st.method == PaymentMethod.CARD:
            assert st.authorization_id is not None
            await self._gateway.void(order_id=st.order_id, authorization_id=st.authorization_id)
            await self._bus.execute(RecordPaymentCompensated(
                st.order_id, False, self._now(), f"card hold {st.authorization_id} voided"))
            return
        # UPI: withdraw the intent; if the customer had already paid, refund the debit.
        payment_id = st.authorization_id
        if payment_id is None:
            assert st.upi_intent_id is not None
            try:
                status = await self._gateway.cancel_upi_intent(order_id=st.order_id,
                                                               intent_id=st.upi_intent_id)
            except GatewayRejected as exc:
                if exc.code != "not_found":
                    raise
                # Cancelled before its registration reached the gateway (it kept failing, or
                # had not run yet): there is nothing the customer could pay.
                await self._bus.execute(RecordPaymentCompensated(
                    st.order_id, False, self._now(),
                    f"UPI intent {st.upi_intent_id} never reached the gateway; nothing to "
                    "withdraw"))
                return
            if status != "approved":
                await self._bus.execute(RecordPaymentCompensated(
                    st.order_id, False, self._now(), f"UPI intent {st.upi_intent_id} cancelled"))
                return
            intent = await self._gateway.get_upi_intent(st.upi_intent_id, order_id=st.order_id)
            payment_id = intent.payment_id
        assert payment_id is not None
        await self._gateway.refund(order_id=st.order_id, capture_id=payment_id,
                                   amount_minor=st.total.amount_minor, currency=st.total.currency)
        await self._bus.execute(RecordPaymentCompensated(
            st.order_id, True, self._now(), f"UPI payment {payment_id} refunded ({st.total})",
            st.total.amount_minor))

    # -- the end --------------------------------------------------------------------------------

    async def finish_cancel(self, st: SagaState, why: str) -> None:
        # The reason a person reads is on the order (the failure, or who cancelled).
        await self._bus.execute(FinishCancel(st.order_id, self._now()))

