"""Settlement: captured card and UPI payments of shipped orders are paid out by the gateway."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.domain.events import EventType
from core.persistence.repos import orders as repo
from core.service import events


@dataclass(frozen=True)
class SettlementBatch:
    """Captures to settle in one gateway call; `batch_id` is its idempotency step."""

    batch_id: str
    capture_ids: list[str]
    order_ids: list[str]


def due_batch(session: Session, limit: int = 100) -> SettlementBatch | None:
    """The next card and UPI captures to settle: shipped or delivered, captured, not yet
    settled."""
    rows = repo.settlement_due(session.connection(), limit)
    if not rows:
        return None
    capture_ids = sorted(capture_id for _order_id, capture_id in rows)
    return SettlementBatch(batch_id_for(capture_ids), capture_ids,
                           [order_id for order_id, _capture_id in rows])


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
    orders = repo.unsettled_for_update(session, capture_ids)
    for order in orders:
        order.settled_at, order.payment_state, order.updated_at = now, "settled", now
        events.record(session, order, EventType.PAYMENT_SETTLED, now,
                      f"capture {order.capture_id} settled by the gateway ({batch_id})")
    session.flush()
    return sorted(o.order_id for o in orders)
