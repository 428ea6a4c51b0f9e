"""The order saga's command handlers: each a durable transition of core/service/saga_steps.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core.domain.saga import SagaState
from core.domain.saga_commands import (
    ApplyUpiIntent,
    BeginPaymentCompensation,
    ClaimDueSagas,
    ClaimedSagas,
    FinishCancel,
    LockInventory,
    RecordIntentRegistered,
    RecordPaymentAuthorized,
    RecordPaymentCompensated,
    RecordPaymentFailed,
    ReleaseInventory,
    ReleaseSagaLeases,
    RenewSagaLeases,
    RescheduleSaga,
)
from core.service import saga_steps as steps
from core.service.deps import Deps


def lock_inventory(session: Session, cmd: LockInventory, deps: Deps) -> SagaState | None:
    # The process's backlog cache: the saga routes many orders a second.
    return steps.lock_inventory(session, cmd.order_id, cmd.now, deps.config.routing,
                                deps.backlog)


def payment_authorized(session: Session, cmd: RecordPaymentAuthorized,
                       deps: Deps) -> SagaState | None:
    return steps.payment_authorized(session, cmd.order_id, cmd.authorization_id,
                                    cmd.amount_minor, cmd.now, cmd.detail)


def payment_failed(session: Session, cmd: RecordPaymentFailed, deps: Deps) -> SagaState | None:
    return steps.payment_failed(session, cmd.order_id, cmd.reason, cmd.now)


def intent_registered(session: Session, cmd: RecordIntentRegistered,
                      deps: Deps) -> SagaState | None:
    return steps.intent_registered(session, cmd.order_id, cmd.now)


def apply_upi_intent(session: Session, cmd: ApplyUpiIntent, deps: Deps) -> bool:
    # The webhook's event id is recorded in the same transaction as its change: a duplicate
    # delivery changes nothing.
    if cmd.webhook_event_id is not None and steps.webhook_seen(
            session, cmd.webhook_event_id, f"upi.intent.{cmd.status}", cmd.now):
        return False
    if cmd.status == "approved" and cmd.payment_id:
        steps.payment_authorized(session, cmd.order_id, cmd.payment_id, cmd.amount_minor,
                                 cmd.now, f"UPI payment {cmd.payment_id} approved by the customer")
    elif cmd.status in ("declined", "expired", "cancelled"):
        steps.payment_failed(session, cmd.order_id,
                             f"UPI intent {cmd.status} by the customer's app"
                             if cmd.status == "declined" else f"UPI intent {cmd.status}", cmd.now)
    return True


def begin_payment_compensation(session: Session, cmd: BeginPaymentCompensation,
                               deps: Deps) -> SagaState | None:
    return steps.begin_payment_compensation(session, cmd.order_id, cmd.now)


def payment_compensated(session: Session, cmd: RecordPaymentCompensated,
                        deps: Deps) -> SagaState | None:
    return steps.payment_compensated(session, cmd.order_id, cmd.refunded, cmd.now, cmd.detail,
                                     cmd.refunded_minor)


def release_inventory(session: Session, cmd: ReleaseInventory, deps: Deps) -> SagaState | None:
    return steps.release_inventory(session, cmd.order_id, cmd.now)


def finish_cancel(session: Session, cmd: FinishCancel, deps: Deps) -> SagaState | None:
    return steps.finish_cancel(session, cmd.order_id, cmd.now)


def reschedule(session: Session, cmd: RescheduleSaga, deps: Deps) -> None:
    steps.reschedule(session, cmd.order_id, cmd.due)


def claim_due(session: Session, cmd: ClaimDueSagas, deps: Deps) -> ClaimedSagas:
    return steps.claim_due(session, cmd.now, cmd.lease, cmd.limit)


def renew_leases(session: Session, cmd: RenewSagaLeases, deps: Deps) -> int:
    return steps.renew_leases(session, cmd.order_ids, cmd.now, cmd.lease)


def release_leases(session: Session, cmd: ReleaseSagaLeases, deps: Deps) -> int:
    return steps.release_leases(session, cmd.now, cmd.order_ids)


# (typed as the bus takes them: each handler takes its own command)
HANDLERS: dict[type[Any], Callable[[Session, Any, Deps], Any]] = {
    LockInventory: lock_inventory,
    RecordPaymentAuthorized: payment_authorized,
    RecordPaymentFailed: payment_failed,
    RecordIntentRegistered: intent_registered,
    ApplyUpiIntent: apply_upi_intent,
    BeginPaymentCompensation: begin_payment_compensation,
    RecordPaymentCompensated: payment_compensated,
    ReleaseInventory: release_inventory,
    FinishCancel: finish_cancel,
    RescheduleSaga: reschedule,
    ClaimDueSagas: claim_due,
    ReleaseSagaLeases: release_leases,
    RenewSagaLeases: renew_leases,
}
