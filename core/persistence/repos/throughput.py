"""Order events counted per UTC hour and type, in SQL (core/service/throughput.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from core.persistence.tables import ORDER_EVENTS, ORDERS

EVENTS = ORDER_EVENTS


@dataclass(frozen=True, slots=True)
class HourCount:
    hour: datetime  # the hour's start, UTC (naive on SQLite)
    type: str  # the event type
    n: int


def _hour_of(dialect: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The UTC hour an event happened in, as SQL (SQLite keeps UTC text; PostgreSQL timestamptz,
    truncated in UTC so an FC in a half-hour zone still gets whole UTC hours)."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:00:00", column)
    return func.date_trunc("hour", func.timezone("UTC", column))


def counts_by_hour(session: Session, since: datetime,
                   counted: Sequence[tuple[str, str | None]], fc_id: str) -> list[HourCount]:
    """Events since `since` of the counted (type, status the order must have then — None:
    any) pairs, per hour and type; only orders routed to fc_id when it is given."""
    hour = _hour_of(session.get_bind().dialect.name, EVENTS.c.occurred_at).label("hour")
    wanted = or_(*(EVENTS.c.type == t if status is None
                   else and_(EVENTS.c.type == t, EVENTS.c.status == status)
                   for t, status in counted))
    stmt = (select(hour, EVENTS.c.type, func.count())
            .where(EVENTS.c.occurred_at >= since, wanted)
            .group_by(hour, EVENTS.c.type))
    if fc_id:
        stmt = stmt.join(ORDERS, ORDERS.c.order_id == EVENTS.c.order_id).where(
            ORDERS.c.fc_id == fc_id)
    return [HourCount(datetime.fromisoformat(h) if isinstance(h, str) else h, t, int(n))
            for h, t, n in session.execute(stmt)]
