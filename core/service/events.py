"""Writing events to the outbox (in the state change's transaction) and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.events import EventType
from core.persistence.models import OrderEvent

# Built once (see saga_steps): the columns come from the parameters' keys.
_INSERT_EVENT = insert(OrderEvent.__table__)


def record(
    db: Session | Connection, order: Any, type_: EventType, now: datetime, detail: str = ""
) -> None:
    """Append an event for the order in the current transaction (the transactional outbox)."""
    conn = db.connection() if isinstance(db, Session) else db
    conn.execute(_INSERT_EVENT, {
        "order_id": order.order_id, "type": str(type_), "status": order.status,
        "detail": detail, "fc_id": order.fc_id, "storefront": order.storefront,
        "occurred_at": now})


def history(session: Session, order_id: str) -> list[OrderEvent]:
    """Every event of one order, oldest first."""
    stmt = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.event_id)
    return list(session.scalars(stmt))


def after(session: Session, last_event_id: int, limit: int = 1000) -> list[OrderEvent]:
    """Events with an id above last_event_id, oldest first."""
    stmt = (
        select(OrderEvent)
        .where(OrderEvent.event_id > last_event_id)
        .order_by(OrderEvent.event_id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def last_event_id(session: Session) -> int:
    """The newest event id (0 when there is none)."""
    stmt = select(OrderEvent.event_id).order_by(OrderEvent.event_id.desc()).limit(1)
    return session.scalar(stmt) or 0


def by_ids(session: Session, event_ids: list[int]) -> list[OrderEvent]:
    """The events among these ids that exist (committed), oldest first."""
    stmt = (select(OrderEvent).where(OrderEvent.event_id.in_(event_ids))
            .order_by(OrderEvent.event_id))
    return list(session.scalars(stmt))
