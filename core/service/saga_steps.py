"""The saga's durable transitions: each runs in one write transaction with its outbox event.

Every transition is a compare-and-set on the order's step states, so running one twice (a
retried delivery, a resumed saga, two workers) changes nothing the second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.events import EventType
from core.domain.money import Money
from core.domain.order import (
    InventoryState,
    OrderStatus,
    PaymentMethod,
    PaymentState,
)
from core.domain.saga import Decision, SagaState
from core.domain.saga_commands import ClaimedSagas
from core.domain.words import count
from core.persistence.models import Order
from core.persistence.repos import events as event_repo
from core.persistence.repos import orders as repo
from core.persistence.repos.orders import OrderRecord
from core.service import events, inventory, routing, shipments


def _done(conn: Connection, order: OrderRecord) -> SagaState:
    repo.save(conn, order)
    return state_of(order)


def state_of(order: OrderRecord | Order) -> SagaState:
    """What the saga makes of the order as it stands."""
    return SagaState(
        order_id=order.order_id, status=OrderStatus(order.status),
        inventory=InventoryState(order.inventory_state),
        payment=PaymentState(order.payment_state), method=PaymentMethod(order.payment_method),
        cancel_requested=order.cancel_requested is not None,
        total=Money(order.total_minor, order.currency),
        card_token=order.payment_token, authorization_id=order.authorization_id,
        upi_intent_id=order.upi_intent_id, upi_vpa=order.upi_vpa,
        upi_expires_at=order.upi_expires_at,
    )


def load_state(session: Session, order_id: str) -> SagaState | None:
    order = repo.read(session.connection(), order_id)
    return state_of(order) if order is not None else None


def _complete_if_ready(conn: Connection, order: OrderRecord, now: datetime,
                       reads: shipments.PickReads | None = None) -> None:
    if order.status != OrderStatus.PENDING or order.cancel_requested:
        return
    if state_of(order).decision == Decision.COMPLETE:
        order.transition(OrderStatus.PROCESSING)
        order.saga_due_at = None
        events.record(conn, order, EventType.ORDER_READY_FOR_FULFILLMENT, now,
                      f"stock soft-locked and payment {order.payment_state}; ready to route")
        shipments.create_for_order(conn, order, now, reads)


def lock_inventory(
    session: Session, order_id: str, now: datetime,
    rules: routing.RoutingRules = routing.DEFAULT_RULES,
    backlog: routing.BacklogCache | None = None,
) -> SagaState | None:
    """Soft-lock the order's lines where routing says; Inventory_Locked or Inventory_Failure.

    backlog: count the FCs' backlog through this process's cache (the saga's many routings a
    second), rather than afresh.
    """
    conn = session.connection()
    locked = repo.lock_soon(conn, order_id)
    # What routing reads, read with the order (one round trip on PostgreSQL); never sent when
    # the order turns out to need no lock.
    inputs = routing.inputs_soon(conn, order_id)
    order = locked.get()
    if order is None:
        return None
    if order.inventory_state != InventoryState.PENDING or order.status != OrderStatus.PENDING:
        return _done(conn, order)
    main_fc, detail = routing.lock_where_routed(conn, order, inputs.needs(), now, rules,
                                                backlog, inputs)
    order.updated_at = now
    if main_fc is not None:
        order.inventory_state = InventoryState.LOCKED
        order.fc_id = main_fc
        events.record(conn, order, EventType.INVENTORY_LOCKED, now, f"soft-locked {detail}")
        _complete_if_ready(conn, order, now)
    else:
        order.inventory_state = InventoryState.FAILED
        order.failure_reason = order.failure_reason or detail
        events.record(conn, order, EventType.INVENTORY_FAILURE, now, detail)
    return _done(conn, order)


def payment_authorized(
    session: Session, order_id: str, authorization_id: str, amount_minor: int, now: datetime,
    detail: str,
) -> SagaState | None:
    """Record a card hold or an approved UPI debit; Payment_Authorized."""
    conn = session.connection()
    locked = repo.lock_soon(conn, order_id)
    # What queueing its pick lines reads, read with the order (it is ready when its stock was
    # locked first): nothing below changes either before the lines are queued.
    reads = shipments.pick_reads_soon(conn, order_id)
    order = locked.get()
    if order is None:
        return None
    if order.payment_state not in (PaymentState.AUTHORIZING, PaymentState.INTENT_REGISTERING,
                                   PaymentState.INTENT_PENDING):
        return _done(conn, order)
    order.payment_state = PaymentState.AUTHORIZED
    order.authorization_id = authorization_id
    order.authorized_minor = amount_minor
    if order.payment_method == PaymentMethod.UPI:
        # An approved UPI intent is a debit: the gateway has taken the money now, not at packing.
        order.captured_minor = amount_minor
    order.updated_at = now
    events.record(conn, order, EventType.PAYMENT_AUTHORIZED, now, detail)
    _complete_if_ready(conn, order, now, reads)
    return _done(conn, order)


def payment_failed(session: Session, order_id: str, reason: str, now: datetime) -> SagaState | None:
    """Record a decline or an expired/declined intent; Payment_Failed."""
    conn = session.connection()
    order = repo.lock(conn, order_id)
    if order is None:
        return None
    if order.payment_state not in (PaymentState.AUTHORIZING, PaymentState.INTENT_REGISTERING,
                                   PaymentState.INTENT_PENDING):
        return _done(conn, order)
    order.payment_state = PaymentState.FAILED
    order.failure_reason = order.failure_reason or f"payment failed: {reason}"
    order.updated_at = now
    events.record(conn, order, EventType.PAYMENT_FAILED, now, reason)
    return _done(conn, order)


def intent_registered(session: Session, order_id: str, now: datetime) -> SagaState | None:
    """The UPI intent is known to the gateway: wait for the customer."""
    conn = session.connection()
    order = repo.lock(conn, order_id)
    if order is None:
        return None
    if order.payment_state == PaymentState.INTENT_REGISTERING:
        order.payment_state = PaymentState.INTENT_PENDING
        order.updated_at = now
    return _done(conn, order)


def begin_payment_compensation(session: Session, order_id: str, now: datetime) -> SagaState | None:
    """Record that the payment is being undone (before the gateway is called)."""
    conn = session.connection()
    order = repo.lock(conn, order_id)
    if order is None:
        return None
    state = PaymentState(order.payment_state)
    if state == PaymentState.COD_PENDING:
        order.payment_state = PaymentState.CANCELLED
    elif state in (PaymentState.AUTHORIZED, PaymentState.INTENT_PENDING,
                   PaymentState.INTENT_REGISTERING):
        order.payment_state = PaymentState.VOIDING
    order.updated_at = now
    return _done(conn, order)


def payment_compensated(
    session: Session, order_id: str, refunded: bool, now: datetime, detail: str,
    refunded_minor: int = 0,
) -> SagaState | None:
    """The hold was voided / the intent cancelled (Payment_Voided), or refunded."""
    conn = session.connection()
    order = repo.lock(conn, order_id)
    if order is None:
        return None
    if order.payment_state != PaymentState.VOIDING:
        return _done(conn, order)
    order.payment_state = PaymentState.REFUNDED if refunded else PaymentState.VOIDED
    if refunded:
        # An approved UPI intent is a debit (the gateway's capture) that is now given back:
        # the order's amounts say so, as the gateway's ledger does.
        order.captured_minor = order.captured_minor or order.authorized_minor
        order.refunded_minor = (order.refunded_minor or 0) + refunded_minor
    order.updated_at = now
    kind = EventType.PAYMENT_REFUNDED if refunded else EventType.PAYMENT_VOIDED
    events.record(conn, order, kind, now, detail)
    return _done(conn, order)


def release_inventory(session: Session, order_id: str, now: datetime) -> SagaState | None:
    """Give the soft-locked units back; Inventory_Released."""
    conn = session.connection()
    order = repo.lock(conn, order_id)
    if order is None:
        return None
    if order.inventory_state == InventoryState.LOCKED:
        units = inventory.release_soft_locks(conn, order_id)
        shipments.cancel_for_order(conn, order_id, now)
        order.inventory_state = InventoryState.RELEASED
        order.updated_at = now
        events.record(conn, order, EventType.INVENTORY_RELEASED, now,
                      f"released {count(units, 'soft-locked unit')}")
    elif order.inventory_state == InventoryState.PENDING:
        # Never locked: make sure a late lock attempt cannot take stock for a dead order.
        order.inventory_state = InventoryState.FAILED
    return _done(conn, order)


def finish_cancel(session: Session, order_id: str, now: datetime) -> SagaState | None:
    """Every step is undone: CANCELLED with the reason a person can read; Order_Cancelled."""
    conn = session.connection()
    order = repo.lock(conn, order_id)
    if order is None:
        return None
    if state_of(order).decision != Decision.CANCEL:
        return state_of(order)
    order.transition(OrderStatus.CANCELLED)
    if order.cancel_requested:
        order.cancel_reason = order.cancel_requested  # says who cancelled and why
    else:
        order.cancel_reason = order.failure_reason or "cancelled"
    order.saga_due_at = None
    order.updated_at = now
    events.record(conn, order, EventType.ORDER_CANCELLED, now, order.cancel_reason)
    return _done(conn, order)


def reschedule(session: Session, order_id: str, due: datetime | None) -> None:
    """When a worker should look at this order again (None: only when something happens)."""
    repo.reschedule(session.connection(), order_id, due)


def claim_due(session: Session, now: datetime, lease: timedelta, limit: int) -> ClaimedSagas:
    """Take up to `limit` orders whose saga is due, leasing them (SKIP LOCKED on PostgreSQL);
    counts those whose lease had lapsed (takeovers)."""
    ids, takeovers = repo.claim_due(session.connection(), now, now + lease, limit)
    return ClaimedSagas(tuple(ids), takeovers)


def renew_leases(session: Session, order_ids: tuple[str, ...], now: datetime,
                 lease: timedelta) -> int:
    """Extend the unlapsed leases of sagas a replica holds (queued or under way)."""
    return repo.renew_leases(session.connection(), list(order_ids), now, now + lease)


def release_leases(session: Session, now: datetime,
                   order_ids: tuple[str, ...] | None = None) -> int:
    """Make leased sagas due now: all (a single-process SQLite server after a restart) or
    these (a stopping replica's own, not yet lapsed)."""
    return repo.release_leases(session.connection(), now,
                               None if order_ids is None else list(order_ids))


def webhook_seen(session: Session, event_id: str, type_: str, now: datetime) -> bool:
    """Record a webhook event id; True when it was already handled (a duplicate delivery)."""
    return event_repo.webhook_seen(session.connection(), event_id, type_, now)
