"""Writing events to the outbox (in the state change's transaction) and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.events import EventType
from core.persistence.models import OrderEvent
from core.persistence.repos import events as repo


class OrderRef(Protocol):
    """What an event records of its order (an order record, an ORM order, a pick's order)."""

    @property
    def order_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def fc_id(self) -> str | None: ...
    @property
    def storefront(self) -> str: ...


def record(
    db: Session | Connection, order: OrderRef, type_: EventType, now: datetime, detail: str = ""
) -> None:
    """Append an event for the order in the current transaction (the transactional outbox)."""
    conn = db.connection() if isinstance(db, Session) else db
    repo.append(conn, order.order_id, str(type_), order.status, detail, order.fc_id,
                order.storefront, now)


def history(session: Session, order_id: str) -> list[OrderEvent]:
    """Every event of one order, oldest first."""
    return repo.of_order(session, order_id)


def after(session: Session, last_event_id: int, limit: int = 1000) -> list[OrderEvent]:
    """Events with an id above last_event_id, oldest first."""
    return repo.after(session, last_event_id, limit)


def last_event_id(session: Session) -> int:
    """The newest event id (0 when there is none)."""
    return repo.last_event_id(session)


def by_ids(session: Session, event_ids: list[int]) -> list[OrderEvent]:
    """The events among these ids that exist (committed), oldest first."""
    return repo.by_ids(session, event_ids)


def page(
    session: Session, after: int, upto: int, limit: int, order_id: str | None = None,
    storefront: str | None = None, fc_id: str | None = None,
) -> list[Any]:
    """At most `limit` events with after < event_id <= upto (of one order, storefront or FC),
    oldest first, as plain rows: a page of a replay, never the whole history at once."""
    return repo.page(session, after, upto, limit, order_id, storefront, fc_id)
