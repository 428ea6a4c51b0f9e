"""Settlement: captured card and UPI payments of shipped orders are paid out by the gateway."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain.events import EventType
from core.domain.order import OrderStatus, PaymentMethod
from core.persistence.models import Order
from core.service import events

ORDERS = Order.__table__


@dataclass(frozen=True)
class SettlementBatch:
    """Captures to settle in one gateway call; `batch_id` is its idempotency step."""

    batch_id: str
    capture_ids: list[str]
    order_ids: list[str]


def due_batch(session: Session, limit: int = 100) -> SettlementBatch | None:
    """The next captures to settle: shipped or delivered, captured, not yet settled."""
    rows = list(session.execute(
        select(ORDERS.c.order_id, ORDERS.c.capture_id)
        .where(ORDERS.c.payment_method.in_([PaymentMethod.CARD, PaymentMethod.UPI]),
               ORDERS.c.status.in_([OrderStatus.SHIPPED, OrderStatus.DELIVERED]),
               ORDERS.c.capture_id.is_not(None), ORDERS.c.settled_at.is_(None))
        .order_by(ORDERS.c.order_id).limit(limit)))
    if not rows:
        return None
    capture_ids = sorted(r.capture_id for r in rows)
    return SettlementBatch(batch_id_for(capture_ids), capture_ids, [r.order_id for r in rows])


def batch_id_for(capture_ids: list[str]) -> str:
    """A batch's id follows from its captures, so a pass repeated after a crash repeats the key.

    (The schema has no settlement table to record a batch in; the same captures always make
    the same batch id, which is what a recorded one would give.)
    """
    digest = hashlib.sha256("\n".join(sorted(capture_ids)).encode()).hexdigest()
    return f"settle-{digest[:24]}"


def mark_settled(session: Session, capture_ids: list[str], batch_id: str,
                 now: datetime) -> list[str]:
    """The gateway settled these captures: their orders are settled (once); their ids."""
    orders = list(session.scalars(select(Order).where(
        Order.capture_id.in_(capture_ids), Order.settled_at.is_(None)).with_for_update()))
    for order in orders:
        order.settled_at, order.payment_state, order.updated_at = now, "settled", now
        events.record(session, order, EventType.PAYMENT_SETTLED, now,
                      f"capture {order.capture_id} settled by the gateway ({batch_id})")
    session.flush()
    return sorted(o.order_id for o in orders)
