"""Writing events to the outbox (in the state change's transaction) and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.events import EventType
from core.persistence.direct import HotStatement
from core.persistence.models import OrderEvent

# Every state change writes one: compiled once, run on the DBAPI connection (direct.py).
_INSERT_EVENT = HotStatement(insert(OrderEvent.__table__), [
    "order_id", "type", "status", "detail", "fc_id", "storefront", "occurred_at"])


def record(
    db: Session | Connection, order: Any, type_: EventType, now: datetime, detail: str = ""
) -> None:
    """Append an event for the order in the current transaction (the transactional outbox)."""
    conn = db.connection() if isinstance(db, Session) else db
    _INSERT_EVENT.execute(conn, {
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


_PAGE_COLUMNS = (OrderEvent.event_id, OrderEvent.order_id, OrderEvent.type, OrderEvent.status,
                 OrderEvent.occurred_at, OrderEvent.detail)


def page(
    session: Session, after: int, upto: int, limit: int, order_id: str | None = None,
    storefront: str | None = None, fc_id: str | None = None,
) -> list[Any]:
    """At most `limit` events with after < event_id <= upto (of one order, storefront or FC),
    oldest first, as plain rows: a page of a replay, never the whole history at once."""
    stmt = (select(*_PAGE_COLUMNS)
            .where(OrderEvent.event_id > after, OrderEvent.event_id <= upto)
            .order_by(OrderEvent.event_id).limit(limit))
    if order_id is not None:
        stmt = stmt.where(OrderEvent.order_id == order_id)
    if storefront is not None:
        stmt = stmt.where(OrderEvent.storefront == storefront)
    if fc_id:
        stmt = stmt.where(OrderEvent.fc_id == fc_id)
    return list(session.execute(stmt))
