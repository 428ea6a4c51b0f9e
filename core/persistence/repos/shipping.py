"""Hand-off to carriers (manifests), tracking events and delivery (core/service/shipping.py)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from core.persistence.fulfillment_models import Shipment
from core.persistence.models import FulfillmentCenter, Order
from core.persistence.tables import (
    MANIFESTS,
    ORDERS,
    PICK_LINES,
    SHIPMENTS,
    SOFT_LOCKS,
    STOCK_LEVELS,
    TRACKING_EVENTS,
)

LINES, LOCKS, STOCK, TRACKING = PICK_LINES, SOFT_LOCKS, STOCK_LEVELS, TRACKING_EVENTS


@dataclass(frozen=True, slots=True)
class Parcel:
    """A shipment as hand-off checks and ships it."""

    shipment_id: str
    order_id: str
    fc_id: str
    status: str
    carrier: str | None
    tracking_number: str
    manifest_id: str | None
    weight_grams: int | None
    cod_due_minor: int


@dataclass(frozen=True, slots=True)
class ParcelOrder:
    """What a manifest prints of a parcel's order."""

    order_id: str
    currency: str
    ship_to: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ManifestRecord:
    manifest_id: str
    carrier: str
    tracking_numbers: list[str]
    pdf: bytes | None
    created_at: datetime


_PARCEL = select(*(SHIPMENTS.c[f.name] for f in fields(Parcel)))
_PICKED = select(LINES.c.sku, LINES.c.picked).where(LINES.c.shipment_id == bindparam("sh"))
_STOCK_KEY = (STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku == bindparam("s_sku"))
_LOCK_KEY = (LOCKS.c.order_id == bindparam("order"), LOCKS.c.fc_id == bindparam("fc"),
             LOCKS.c.sku == bindparam("s_sku"))
# The hard-locked units leave: on hand and hard locks go down together, or nothing does.
_OUT_OF_STOCK = update(STOCK).where(*_STOCK_KEY, STOCK.c.hard_locked >= bindparam("units")).values(
    on_hand=STOCK.c.on_hand - bindparam("units"),
    hard_locked=STOCK.c.hard_locked - bindparam("units"))
_OUT_OF_LOCK = update(LOCKS).where(*_LOCK_KEY, LOCKS.c.hard_quantity >= bindparam("units")).values(
    hard_quantity=LOCKS.c.hard_quantity - bindparam("units"))
_DROP_EMPTY_LOCK = delete(LOCKS).where(*_LOCK_KEY, LOCKS.c.quantity == 0,
                                       LOCKS.c.hard_quantity == 0)


def parcels(session: Session, tracking_numbers: Sequence[str], lock: bool
            ) -> dict[str, Parcel]:
    """The shipments with these tracking numbers, by number (FOR UPDATE when lock)."""
    stmt = _PARCEL.where(SHIPMENTS.c.tracking_number.in_(list(tracking_numbers)))
    if lock:
        stmt = stmt.with_for_update()
    return {p.tracking_number: p for p in (Parcel(*row) for row in session.execute(stmt))}


def parcel_orders(session: Session, order_ids: Collection[str]) -> dict[str, ParcelOrder]:
    return {o.order_id: o for o in (ParcelOrder(*row) for row in session.execute(
        select(ORDERS.c.order_id, ORDERS.c.currency, ORDERS.c.ship_to)
        .where(ORDERS.c.order_id.in_(list(order_ids)))))}


def add_manifest(session: Session, manifest: ManifestRecord) -> None:
    session.execute(insert(MANIFESTS).values(
        {f.name: getattr(manifest, f.name) for f in fields(manifest)}))


def manifest(session: Session, manifest_id: str) -> ManifestRecord | None:
    row = session.execute(select(*(MANIFESTS.c[f.name] for f in fields(ManifestRecord)))
                          .where(MANIFESTS.c.manifest_id == manifest_id)).first()
    return None if row is None else ManifestRecord(*row)


def mark_shipped(session: Session, shipment_ids: Sequence[str], manifest_id: str,
                 now: datetime) -> None:
    session.execute(update(SHIPMENTS).where(SHIPMENTS.c.shipment_id.in_(list(shipment_ids)))
                    .values(status="shipped", manifest_id=manifest_id, shipped_at=now,
                            updated_at=now))


def units_picked(session: Session, shipment_id: str) -> dict[str, int]:
    """SKU → units picked onto the shipment."""
    out: dict[str, int] = {}
    for sku, picked in session.execute(_PICKED, {"sh": shipment_id}):
        out[sku] = out.get(sku, 0) + picked
    return out


def take_out(session: Session, parcel: Parcel, sku: str, units: int) -> bool:
    """The units leave the FC's stock and the order's hard lock (an emptied lock row goes);
    False when they were not all hard-locked (nothing changed: roll back)."""
    key = {"order": parcel.order_id, "fc": parcel.fc_id, "s_sku": sku, "units": units}
    conn = session.connection()
    taken = conn.execute(_OUT_OF_STOCK, key).rowcount
    if taken != 1 or conn.execute(_OUT_OF_LOCK, key).rowcount != 1:
        return False
    conn.execute(_DROP_EMPTY_LOCK, key)
    return True


def all_shipments_in(session: Session, order_id: str, statuses: tuple[str, ...]) -> bool:
    """Whether every live (not cancelled) shipment of the order is in one of the statuses."""
    stmt = select(func.count()).select_from(SHIPMENTS).where(
        SHIPMENTS.c.order_id == order_id, SHIPMENTS.c.status != "cancelled",
        SHIPMENTS.c.status.not_in(statuses))
    return session.execute(stmt).scalar_one() == 0


def parcel_for_update(session: Session, tracking_number: str) -> Shipment | None:
    """The parcel's shipment (ORM, changed by delivery), locked."""
    return session.scalars(select(Shipment).where(
        Shipment.tracking_number == tracking_number).with_for_update()).first()


def parcel_status(session: Session, tracking_number: str) -> str | None:
    return session.execute(select(SHIPMENTS.c.status).where(
        SHIPMENTS.c.tracking_number == tracking_number)).scalar()


def tracking_event_seen(session: Session, tracking_number: str, status: str,
                        occurred_at: datetime) -> bool:
    return session.execute(select(TRACKING.c.id).where(
        TRACKING.c.tracking_number == tracking_number, TRACKING.c.status == status,
        TRACKING.c.occurred_at == occurred_at)).first() is not None


def add_tracking_event(session: Session, tracking_number: str, status: str, location: str,
                       cod_collected_minor: int | None, source: str, occurred_at: datetime
                       ) -> None:
    session.execute(insert(TRACKING).values(
        tracking_number=tracking_number, status=status, location=location,
        cod_collected_minor=cod_collected_minor, source=source, occurred_at=occurred_at))


def due_for_polling(session: Session, limit: int) -> list[str]:
    """Parcels handed off and not delivered yet, least recently touched first (the status a
    literal, so the partial index of the shipments "shipped" serves it: migration 0011)."""
    return list(session.scalars(
        select(SHIPMENTS.c.tracking_number).where(
            SHIPMENTS.c.status == literal_column("'shipped'"))
        .order_by(SHIPMENTS.c.updated_at).limit(limit)))


def order_for_update(session: Session, order_id: str) -> Order:
    """The order, locked (ORM: hand-off and delivery change its status); it must exist."""
    found = session.get(Order, order_id, with_for_update=True)
    if found is None:
        raise LookupError(f"no order {order_id}")
    return found


def fc(session: Session, fc_id: str) -> FulfillmentCenter | None:
    return session.get(FulfillmentCenter, fc_id)
