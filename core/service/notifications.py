"""Customer notifications: which events are messages, who gets them, and their lifecycle.

`fan_out` is a table consumer of the outbox (core/service/outbox.py calls it inside the write
transaction that advances its position): it only inserts rows, one per (event, channel,
recipient), and never calls out. The sender (server/notifier.py) claims due rows through
`claim_due`, sends them, and records each outcome here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.order import OrderStatus, PaymentMethod
from core.persistence.models import OrderEvent
from core.persistence.repos import notifications as repo
from core.persistence.repos.notifications import MessageRecord, OrderContact, ParcelView

# The events a customer is told about, and the message (template set) each one is.
KINDS: dict[str, str] = {
    EventType.ORDER_READY_FOR_FULFILLMENT: "confirmed",
    EventType.ORDER_SHIPPED: "shipped",
    EventType.ORDER_OUT_FOR_DELIVERY: "out_for_delivery",
    EventType.ORDER_DELIVERED: "delivered",
    EventType.ORDER_CANCELLED: "cancelled",
    EventType.PAYMENT_REFUNDED: "refunded",
}
EMAIL, SMS = "email", "sms"


def _refund_told_by_cancel(order: OrderContact) -> bool:
    # A cancellation's refund is said in the cancellation's message: one message, not two.
    return order.status == OrderStatus.CANCELLED or order.cancel_requested is not None


def fan_out(session: Session, events: Sequence[OrderEvent], now: datetime) -> None:
    """Queue a message per channel and recipient for each event that is a customer message."""
    wanted = [e for e in events if e.type in KINDS]
    if not wanted:
        return
    conn = session.connection()
    orders = repo.contacts(conn, (e.order_id for e in wanted))
    opted = repo.opt_outs(conn, ((o.storefront, o.customer_id) for o in orders.values()
                                 if o.email or o.phone))
    rows: list[dict[str, Any]] = []
    for event in wanted:
        order = orders.get(event.order_id)
        if order is None or not (order.email or order.phone):
            continue
        if event.type == EventType.PAYMENT_REFUNDED and _refund_told_by_cancel(order):
            continue
        no_email, no_sms = opted.get((order.storefront, order.customer_id), (False, False))
        for channel, recipient, off in ((EMAIL, order.email, no_email),
                                        (SMS, order.phone, no_sms)):
            if recipient and not off:
                rows.append({
                    "message_id": new_id("msg"), "event_id": event.event_id,
                    "event_type": event.type, "order_id": event.order_id,
                    "storefront": order.storefront, "customer_id": order.customer_id,
                    "channel": channel, "recipient": recipient,
                    "locale": order.locale or "en", "detail": event.detail or "",
                    "status": repo.QUEUED, "attempts": 0, "due_at": now, "holder": None,
                    "last_error": None, "subject": None, "body": None, "created_at": now,
                    "sent_at": None})
    repo.insert_messages(conn, rows)


def claim_due(session: Session, holder: str, now: datetime, lease: timedelta,
              limit: int) -> list[MessageRecord]:
    """Due messages, marked sending for `holder` (durably, before any is sent)."""
    return repo.claim_due(session.connection(), holder, now, now + lease, limit)


def any_due(session: Session, now: datetime) -> bool:
    return repo.any_due(session.connection(), now)


def record_sent(session: Session, message_id: str, holder: str, subject: str, body: str,
                now: datetime) -> bool:
    return repo.mark_sent(session.connection(), message_id, holder, subject, body, now)


def record_failure(session: Session, message_id: str, holder: str, error: str,
                   retry_at: datetime | None) -> bool:
    return repo.mark_failed(session.connection(), message_id, holder, error, retry_at)


def still_wanted(session: Session, message: MessageRecord) -> bool:
    """False when the customer opted out of the channel after the message was queued."""
    key = (message.storefront, message.customer_id)
    no_email, no_sms = repo.opt_outs(session.connection(), [key]).get(key, (False, False))
    return not (no_email if message.channel == EMAIL else no_sms)


def record_skipped(session: Session, message_id: str, holder: str) -> bool:
    return repo.mark_skipped(session.connection(), message_id, holder,
                             "the customer opted out of this channel")


def messages_of_order(session: Session, order_id: str,
                      storefront: str | None) -> list[MessageRecord]:
    """An order's messages, oldest first; a storefront sees its own orders' only."""
    if not order_id.strip():
        raise InvalidArgument("order_id is required", field="order_id")
    conn = session.connection()
    found = repo.contacts(conn, [order_id]).get(order_id)
    if found is None or (storefront is not None and found.storefront != storefront):
        raise NotFound(f"no order {order_id[:64]!r}")
    return repo.of_order(conn, order_id)


def dead_letters(session: Session, limit: int) -> list[MessageRecord]:
    return repo.dead(session.connection(), max(1, min(limit or 200, 200)))


def resend(session: Session, message_id: str, now: datetime) -> MessageRecord:
    """A dead letter queued again now, with a fresh schedule of attempts."""
    conn = session.connection()
    found = repo.get(conn, message_id) if message_id.strip() else None
    if found is None:
        raise NotFound(f"no message {message_id[:64]!r}")
    if not repo.requeue_dead(conn, message_id, now):
        raise FailedPrecondition(f"message {message_id} is {found.status}, not dead: only a "
                                 "dead letter is resent (a message is never sent twice)")
    again = repo.get(conn, message_id)
    assert again is not None
    return again


@dataclass(frozen=True, slots=True)
class Preferences:
    storefront: str
    customer_id: str
    email_opt_out: bool
    sms_opt_out: bool
    updated_at: datetime | None


def _key(storefront: str, customer_id: str) -> None:
    if not storefront.strip():
        raise InvalidArgument("storefront is required (a supervisor names the storefront)",
                              field="storefront")
    if not customer_id.strip():
        raise InvalidArgument("customer_id is required: the customer as the storefront's "
                              "orders name it", field="customer_id")


def get_preferences(session: Session, storefront: str, customer_id: str) -> Preferences:
    _key(storefront, customer_id)
    row = repo.preferences(session.connection(), storefront, customer_id)
    if row is None:
        return Preferences(storefront, customer_id, False, False, None)
    return Preferences(storefront, customer_id, bool(row.email_opt_out), bool(row.sms_opt_out),
                       row.updated_at)


def set_preferences(session: Session, prefs: Preferences, now: datetime) -> Preferences:
    _key(prefs.storefront, prefs.customer_id)
    repo.set_preferences(session.connection(), prefs.storefront, prefs.customer_id,
                         prefs.email_opt_out, prefs.sms_opt_out, now)
    return get_preferences(session, prefs.storefront, prefs.customer_id)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What a message's template is given about its order (money in minor units)."""

    order_id: str
    customer_name: str
    currency: str
    total_minor: int
    payment_method: str
    refunded_minor: int
    payment_state: str
    cancel_reason: str
    parcels: list[ParcelView]
    # COD parcels not yet delivered: the cash the customer keeps ready.
    cod_due_minor: int


def message_facts(session: Session, order_id: str) -> MessageFacts:
    order, parcels = repo.order_view(session.connection(), order_id)
    if order is None:
        raise NotFound(f"no order {order_id[:64]!r}")
    cod_due = (sum(p.cod_due_minor for p in parcels if p.status != "delivered")
               if order.payment_method == PaymentMethod.COD else 0)
    return MessageFacts(
        order_id=order.order_id, customer_name=str((order.ship_to or {}).get("name") or ""),
        currency=order.currency, total_minor=order.total_minor,
        payment_method=order.payment_method, refunded_minor=order.refunded_minor or 0,
        payment_state=order.payment_state, cancel_reason=order.cancel_reason or "",
        parcels=parcels, cod_due_minor=cod_due)
