"""The outbox of order events and the webhook receipts: appended in the state change's
transaction, read back in event-id order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from core.persistence.direct import HotStatement
from core.persistence.models import OrderEvent
from core.persistence.tables import ORDER_EVENTS, WEBHOOK_RECEIPTS

# Every state change writes one: compiled once, run on the DBAPI connection (direct.py).
_INSERT_EVENT = HotStatement(insert(ORDER_EVENTS), [
    "order_id", "type", "status", "detail", "fc_id", "storefront", "occurred_at"])
_RECEIPT = select(WEBHOOK_RECEIPTS.c.event_id)
# (event_id, order_id, type, status, occurred_at, detail): a replay's row, no ORM instance.
EventLine = Row[tuple[int, str, str, str, datetime, str]]
_PAGE_COLUMNS = (OrderEvent.event_id, OrderEvent.order_id, OrderEvent.type, OrderEvent.status,
                 OrderEvent.occurred_at, OrderEvent.detail)


def append(conn: Connection, order_id: str, type_: str, status: str, detail: str,
           fc_id: str | None, storefront: str, occurred_at: datetime) -> None:
    """Append one event to the outbox."""
    _INSERT_EVENT.execute(conn, {
        "order_id": order_id, "type": type_, "status": status, "detail": detail,
        "fc_id": fc_id, "storefront": storefront, "occurred_at": occurred_at})


def webhook_seen(conn: Connection, event_id: str, type_: str, now: datetime) -> bool:
    """Record a webhook event id; True when it was recorded before."""
    seen = conn.execute(_RECEIPT.where(WEBHOOK_RECEIPTS.c.event_id == event_id))
    if seen.first() is not None:
        return True
    conn.execute(insert(WEBHOOK_RECEIPTS).values(event_id=event_id, type=type_, received_at=now))
    return False


def of_order(session: Session, order_id: str) -> list[OrderEvent]:
    """Every event of one order, oldest first."""
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                .order_by(OrderEvent.event_id)))


def after(session: Session, last_event_id: int, limit: int) -> list[OrderEvent]:
    """Events with an id above last_event_id, oldest first."""
    return list(session.scalars(select(OrderEvent).where(OrderEvent.event_id > last_event_id)
                                .order_by(OrderEvent.event_id).limit(limit)))


def last_event_id(session: Session) -> int:
    """The newest event id (0 when there is none)."""
    stmt = select(OrderEvent.event_id).order_by(OrderEvent.event_id.desc()).limit(1)
    return session.scalar(stmt) or 0


def ids_above(session: Session, low: int) -> set[int]:
    """Every event id above `low`."""
    return set(session.scalars(select(OrderEvent.event_id).where(OrderEvent.event_id > low)))


# pg_stat_activity is read once per transaction and then kept (PostgreSQL's statistics
# snapshot): cleared first, so a transaction that asks twice sees who runs now.
_CLEAR_STATS = text("SELECT pg_stat_clear_snapshot()")
_RUNNING = text(
    "SELECT backend_xid::text::bigint FROM pg_stat_activity WHERE datname = "
    "current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")


def running_transactions(session: Session) -> frozenset[int]:
    """PostgreSQL: the ids of this database's transactions in progress, others than this."""
    session.execute(_CLEAR_STATS)
    return frozenset(int(r[0]) for r in session.execute(_RUNNING))


def by_ids(session: Session, event_ids: list[int]) -> list[OrderEvent]:
    """The events among these ids that exist (committed), oldest first."""
    return list(session.scalars(select(OrderEvent).where(OrderEvent.event_id.in_(event_ids))
                                .order_by(OrderEvent.event_id)))


def page(session: Session, after: int, upto: int, limit: int, order_id: str | None,
         storefront: str | None, fc_id: str | None) -> list[EventLine]:
    """At most `limit` events with after < event_id <= upto, filtered, oldest first."""
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
