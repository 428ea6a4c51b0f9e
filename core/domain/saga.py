"""The order saga up to PROCESSING, as an explicit table of steps and their compensations.

Both steps run in parallel after Order_Created. When both succeed the order is PROCESSING
(Order_Ready_for_Fulfillment); when either fails, or the customer cancels, every step that
succeeded is compensated and the order ends CANCELLED with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.domain.events import EventType
from core.domain.order import InventoryState, PaymentState


class StepOutcome(StrEnum):
    RUNNING = "running"          # not finished: work to do or an answer to wait for
    DONE = "done"                # succeeded, nothing to compensate yet
    FAILED = "failed"            # failed, nothing of it to compensate
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"  # or never needed compensation


@dataclass(frozen=True, slots=True)
class SagaStep:
    """One step: its action and success/failure events, and the compensation that undoes it."""

    name: str
    action: str
    succeeded: EventType
    failed: EventType
    compensation: str
    compensated: EventType


SAGA: tuple[SagaStep, ...] = (
    SagaStep("inventory", "soft-lock every line at a fulfillment center",
             EventType.INVENTORY_LOCKED, EventType.INVENTORY_FAILURE,
             "release the soft locks", EventType.INVENTORY_RELEASED),
    SagaStep("payment", "authorize the total (card hold, UPI intent, COD acceptance)",
             EventType.PAYMENT_AUTHORIZED, EventType.PAYMENT_FAILED,
             "void the hold / cancel the intent (refund a UPI debit)", EventType.PAYMENT_VOIDED),
)

_INVENTORY = {
    InventoryState.PENDING: StepOutcome.RUNNING,
    InventoryState.LOCKED: StepOutcome.DONE,
    InventoryState.FAILED: StepOutcome.FAILED,
    InventoryState.RELEASED: StepOutcome.COMPENSATED,
}
_PAYMENT = {
    PaymentState.AUTHORIZING: StepOutcome.RUNNING,
    PaymentState.INTENT_REGISTERING: StepOutcome.RUNNING,
    PaymentState.INTENT_PENDING: StepOutcome.RUNNING,
    PaymentState.AUTHORIZED: StepOutcome.DONE,
    PaymentState.COD_PENDING: StepOutcome.DONE,
    PaymentState.CAPTURED: StepOutcome.DONE,
    PaymentState.FAILED: StepOutcome.FAILED,
    PaymentState.VOIDING: StepOutcome.COMPENSATING,
    PaymentState.REFUNDING: StepOutcome.COMPENSATING,
    PaymentState.VOIDED: StepOutcome.COMPENSATED,
    PaymentState.REFUNDED: StepOutcome.COMPENSATED,
    PaymentState.CANCELLED: StepOutcome.COMPENSATED,
}


def inventory_outcome(state: InventoryState) -> StepOutcome:
    return _INVENTORY[state]


def payment_outcome(state: PaymentState) -> StepOutcome:
    return _PAYMENT[state]


class Decision(StrEnum):
    WAIT = "wait"              # a step is still running
    COMPLETE = "complete"      # every step done: PROCESSING
    COMPENSATE = "compensate"  # something failed or the customer cancelled: undo the rest
    CANCEL = "cancel"          # every step failed or compensated: CANCELLED


_UNDOING = frozenset({StepOutcome.FAILED, StepOutcome.COMPENSATING, StepOutcome.COMPENSATED})


def decide(outcomes: dict[str, StepOutcome], *, cancel_requested: bool) -> Decision:
    """What the saga does next, given each step's outcome (pure; the table drives it)."""
    values = set(outcomes.values())
    # A step being (or already) undone means the saga is failing even when the failure or the
    # cancellation that started it is not in view: finish undoing rather than wait forever.
    failing = cancel_requested or bool(values & _UNDOING)
    if not failing:
        return Decision.COMPLETE if values == {StepOutcome.DONE} else Decision.WAIT
    if values <= {StepOutcome.FAILED, StepOutcome.COMPENSATED}:
        return Decision.CANCEL
    return Decision.COMPENSATE
