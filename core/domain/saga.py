"""The order saga's state and its decisions (pure): what each step's state means, what comes next.

The steps themselves, their compensations and their events are the tables in core/saga/order.py
(inventory and payment, to PROCESSING) and core/saga/packing.py (capture, carrier, label, to
PACKED); core/saga/runner.py executes a table, deciding each turn with `decide` below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.domain.money import Money
from core.domain.order import InventoryState, OrderStatus, PaymentMethod, PaymentState


class StepOutcome(StrEnum):
    RUNNING = "running"          # not finished: work to do or an answer to wait for
    DONE = "done"                # succeeded, nothing to compensate yet
    FAILED = "failed"            # failed, nothing of it to compensate
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"  # or never needed compensation


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
_SETTLED = frozenset({StepOutcome.FAILED, StepOutcome.COMPENSATED})


def decide(outcomes: dict[str, StepOutcome], *, cancel_requested: bool) -> Decision:
    """What the saga does next, given each step's outcome (pure; the runner acts on it)."""
    values = set(outcomes.values())
    # A step being (or already) undone means the saga is failing even when the failure or the
    # cancellation that started it is not in view: finish undoing rather than wait forever.
    failing = cancel_requested or bool(values & _UNDOING)
    if not failing:
        return Decision.COMPLETE if values == {StepOutcome.DONE} else Decision.WAIT
    if values <= _SETTLED:
        return Decision.CANCEL
    return Decision.COMPENSATE


def order_in_play(status: OrderStatus, cancel_requested: bool) -> bool:
    """Whether the order saga still has anything to decide about an order in this status.

    A PENDING order is the saga's until it is PROCESSING or CANCELLED; after that only a
    cancellation before packing brings the saga back, to undo both steps.
    """
    return status == OrderStatus.PENDING or (
        cancel_requested and status in (OrderStatus.PROCESSING, OrderStatus.PICKING))


@dataclass(frozen=True, slots=True)
class SagaState:
    """What a saga worker needs to know to take the next step (no session attached)."""

    order_id: str
    status: OrderStatus
    inventory: InventoryState
    payment: PaymentState
    method: PaymentMethod
    cancel_requested: bool
    total: Money
    card_token: str | None
    authorization_id: str | None
    upi_intent_id: str | None
    upi_vpa: str | None
    upi_expires_at: datetime | None

    @property
    def outcomes(self) -> dict[str, StepOutcome]:
        """Each step's outcome as this state records it, by the step's name."""
        return {"inventory": _INVENTORY[self.inventory], "payment": _PAYMENT[self.payment]}

    @property
    def decision(self) -> Decision:
        """What the order saga does next from this state (WAIT once it is out of play)."""
        if not order_in_play(self.status, self.cancel_requested):
            return Decision.WAIT
        return decide(self.outcomes, cancel_requested=self.cancel_requested)
