"""Floor throughput: orders placed, packed, shipped, delivered and cancelled per hour.

Counted from the order events in one query, grouped by hour and event type in SQL (so what
comes back is at most hours × 5 rows however busy the floor was); an FC's figures are those
of the orders routed to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from core.domain.errors import InvalidArgument
from core.domain.events import EventType
from core.domain.order import OrderStatus
from core.persistence.repos import throughput as repo

DEFAULT_HOURS = 12
MAX_HOURS = 168

# Which event makes an order count where. A split order writes Order_Packed per parcel; only
# the last one (the order is PACKED then) counts it as packed.
COUNTED = {
    EventType.ORDER_CREATED: "placed",
    EventType.ORDER_PACKED: "packed",
    EventType.ORDER_SHIPPED: "shipped",
    EventType.ORDER_DELIVERED: "delivered",
    EventType.ORDER_CANCELLED: "cancelled",
}


@dataclass
class Bucket:
    hour_start: datetime
    counts: dict[str, int] = field(default_factory=dict)

    def get(self, name: str) -> int:
        return self.counts.get(name, 0)


def check_hours(hours: int) -> int:
    """0 means the default (12); 1..168 are allowed."""
    if hours == 0:
        return DEFAULT_HOURS
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidArgument(f"hours must be 1..{MAX_HOURS} (0 means {DEFAULT_HOURS}), "
                              f"got {hours}", field="hours")
    return hours


def _as_utc(value: datetime, tz: tzinfo | None) -> datetime:
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def throughput(session: Session, fc_id: str, hours: int, now: datetime) -> list[Bucket]:
    """One bucket per hour, oldest first, the current (unfinished) hour last."""
    hours = check_hours(hours)
    if len(fc_id) > 64:
        raise InvalidArgument("fc_id is at most 64 characters", field="fc_id")
    current = now.replace(minute=0, second=0, microsecond=0)
    start = current - timedelta(hours=hours - 1)
    # Only an order's last Order_Packed (the order PACKED then) counts it as packed.
    counted = [(str(t), OrderStatus.PACKED if t == EventType.ORDER_PACKED else None)
               for t in COUNTED]
    buckets = [Bucket(start + timedelta(hours=i)) for i in range(hours)]
    for row in repo.counts_by_hour(session, start, counted, fc_id):
        i = int((_as_utc(row.hour, now.tzinfo) - start).total_seconds() // 3600)
        if 0 <= i < hours:  # (an event stamped ahead of this clock is left out)
            name = COUNTED[EventType(row.type)]
            buckets[i].counts[name] = buckets[i].counts.get(name, 0) + row.n
    return buckets
