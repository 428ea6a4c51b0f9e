"""Every write the order saga makes, as a command (handlers: core/service/handlers/saga.py).

Each step's transition answers the SagaState it committed (None: no such order), so the saga
decides its next move without reading the order back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.commands import Command
from core.domain.saga import SagaState


@dataclass(frozen=True, slots=True)
class LockInventory(Command[SagaState | None]):
    """Soft-lock every line where routing says: Inventory_Locked or Inventory_Failure."""

    order_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordPaymentAuthorized(Command[SagaState | None]):
    """A card hold placed or a UPI debit approved: Payment_Authorized."""

    order_id: str
    authorization_id: str
    amount_minor: int
    now: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class RecordPaymentFailed(Command[SagaState | None]):
    """A decline, or an intent declined or expired: Payment_Failed."""

    order_id: str
    reason: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordIntentRegistered(Command[SagaState | None]):
    """The gateway knows the UPI intent: the saga waits for the customer."""

    order_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class ApplyUpiIntent(Command[bool]):
    """A UPI intent's outcome (a webhook or a poll); answers False for a duplicate webhook."""

    order_id: str
    status: str
    payment_id: str | None
    amount_minor: int
    webhook_event_id: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class BeginPaymentCompensation(Command[SagaState | None]):
    """Record that the payment is being undone, before the gateway is asked to."""

    order_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordPaymentCompensated(Command[SagaState | None]):
    """The hold voided or the intent cancelled (Payment_Voided), or the debit refunded."""

    order_id: str
    refunded: bool
    now: datetime
    detail: str
    refunded_minor: int = 0


@dataclass(frozen=True, slots=True)
class ReleaseInventory(Command[SagaState | None]):
    """Give the soft-locked units back: Inventory_Released."""

    order_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class FinishCancel(Command[SagaState | None]):
    """Every step undone: CANCELLED with its reason, Order_Cancelled."""

    order_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RescheduleSaga(Command[None]):
    """When a worker should look at this order again (None: only when something happens)."""

    order_id: str
    due: datetime | None


@dataclass(frozen=True, slots=True)
class ClaimedSagas:
    """ClaimDueSagas' answer: the orders now leased to the claimer, and how many of them were
    a lapsed lease of another pass (its replica died or stalled: a takeover)."""

    order_ids: tuple[str, ...]
    takeovers: int


@dataclass(frozen=True, slots=True)
class ClaimDueSagas(Command[ClaimedSagas]):
    """Lease up to `limit` orders whose saga is due."""

    now: datetime
    lease: timedelta
    limit: int


@dataclass(frozen=True, slots=True)
class RenewSagaLeases(Command[int]):
    """Extend, to now + `lease`, the leases not yet lapsed of these sagas (a replica's own,
    waiting for or in a pass), so no other replica runs them meanwhile; answers how many."""

    order_ids: tuple[str, ...]
    now: datetime
    lease: timedelta


@dataclass(frozen=True, slots=True)
class ReleaseSagaLeases(Command[int]):
    """Make leased sagas due now: every one (a single-process SQLite server after a restart),
    or `order_ids`, a stopping replica's own (another replica then takes them at once)."""

    now: datetime
    order_ids: tuple[str, ...] | None = None
