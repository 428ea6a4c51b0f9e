"""Fulfillment centers as routing sees them, their backlog, and the routing decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.order import OrderStatus
from core.persistence.direct import HotStatement, Soon
from core.persistence.fulfillment_models import RoutingDecision
from core.persistence.tables import FULFILLMENT_CENTERS, ORDERS, ROUTING_DECISIONS, SHIPMENTS

FCS = FULFILLMENT_CENTERS
DECISIONS = ROUTING_DECISIONS
# Shipments that still weigh on an FC's day: not yet handed to a carrier.
OPEN_SHIPMENT_STATUSES = ("pending", "picking", "picked", "packing", "packed")


@dataclass(frozen=True, slots=True)
class FcRecord:
    """Every column of one fulfillment center."""

    fc_id: str
    name: str
    latitude: float
    longitude: float
    cutoff_hour: int
    daily_capacity: int
    address: dict[str, Any] | None
    confirm_bin_scan: bool


@dataclass(frozen=True, slots=True)
class FcSite:
    """What routing scores an FC on, besides its stock and backlog."""

    fc_id: str
    latitude: float
    longitude: float
    cutoff_hour: int
    daily_capacity: int


assert tuple(c.key for c in FCS.columns) == tuple(FcRecord.__dataclass_fields__), (
    "FcRecord is the table's row")

_ALL_FCS = HotStatement(select(FCS.c.fc_id, FCS.c.latitude, FCS.c.longitude,
                              FCS.c.cutoff_hour, FCS.c.daily_capacity))
_FC = select(FCS).where(FCS.c.fc_id == bindparam("fc"))
# Reached through the open orders (indexed by status) so the count costs the work in progress,
# not every shipment ever made; SHIPPED because a split order ships one parcel at a time.
_OPEN_ORDERS = select(ORDERS.c.order_id).where(ORDERS.c.status.in_(
    [OrderStatus.PROCESSING, OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.SHIPPED]))
_BACKLOG = (select(SHIPMENTS.c.fc_id, func.count())
            .where(SHIPMENTS.c.order_id.in_(_OPEN_ORDERS),
                   SHIPMENTS.c.status.in_(OPEN_SHIPMENT_STATUSES))
            .group_by(SHIPMENTS.c.fc_id))
_DROP_DECISION = HotStatement(delete(DECISIONS).where(
    DECISIONS.c.order_id == bindparam("order_id")))
_INSERT_DECISION = HotStatement(insert(DECISIONS), ["order_id", "chosen_fc_id", "candidates",
                                                    "decided_at", "overridden_by"])


def sites(conn: Connection) -> list[FcSite]:
    """Every FC's place, cutoff and capacity."""
    return sites_soon(conn).get()


def sites_soon(conn: Connection) -> Soon[list[FcSite]]:
    return _ALL_FCS.soon(conn).then(lambda rows: [FcSite(*row) for row in rows])


def fc(conn: Connection, fc_id: str) -> FcRecord | None:
    row = conn.execute(_FC, {"fc": fc_id}).first()
    return FcRecord(*row) if row is not None else None


def backlog(conn: Connection) -> dict[str, int]:
    """Open shipments per FC (of orders still in fulfillment)."""
    return {fc_id: int(n) for fc_id, n in conn.execute(_BACKLOG)}


def replace_decision(conn: Connection, order_id: str, chosen_fc_id: str,
                     candidates: list[dict[str, Any]], decided_at: datetime,
                     overridden_by: str | None = None) -> None:
    """Store the order's routing decision in place of any earlier one."""
    _DROP_DECISION.execute(conn, {"order_id": order_id})
    _INSERT_DECISION.execute(conn, {
        "order_id": order_id, "chosen_fc_id": chosen_fc_id, "candidates": candidates,
        "decided_at": decided_at, "overridden_by": overridden_by})


def candidates_of(conn: Connection, order_id: str) -> list[dict[str, Any]] | None:
    """The candidates of the order's stored decision (None: never routed)."""
    row = conn.execute(select(DECISIONS.c.candidates)
                       .where(DECISIONS.c.order_id == order_id)).one_or_none()
    return None if row is None else list(row.candidates)


def override(conn: Connection, order_id: str, chosen_fc_id: str,
             candidates: list[dict[str, Any]], decided_at: datetime, who: str) -> None:
    """A supervisor's choice replaces routing's in the stored decision."""
    conn.execute(update(DECISIONS).where(DECISIONS.c.order_id == order_id).values(
        chosen_fc_id=chosen_fc_id, candidates=candidates, decided_at=decided_at,
        overridden_by=who))


def decision(session: Session, order_id: str) -> RoutingDecision | None:
    """The stored routing decision (ORM)."""
    return session.get(RoutingDecision, order_id)
