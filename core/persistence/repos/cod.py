"""Cash on delivery: carriers' remittances and the COD parcels they pay for
(core/service/cod.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import exists, insert, literal_column, select
from sqlalchemy.orm import Session

from core.domain.order import OrderStatus, PaymentMethod
from core.persistence.models import Order
from core.persistence.tables import COD_REMITTANCE_PARCELS, COD_REMITTANCES, ORDERS, SHIPMENTS

REMITTANCES, PARCELS = COD_REMITTANCES, COD_REMITTANCE_PARCELS


@dataclass(frozen=True, slots=True)
class RemittanceRecord:
    remittance_id: str
    carrier: str
    reference: str
    amount_minor: int
    currency: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CarrierParcel:
    """A parcel of the carrier with a tracking number, and its order's money."""

    tracking_number: str
    status: str
    cod_due_minor: int
    cod_collected_minor: int | None
    delivered_at: datetime | None
    currency: str
    payment_method: str


@dataclass(frozen=True, slots=True)
class UnsettledParcel:
    """A live shipment of a COD order delivered, remitted and not settled yet."""

    order_id: str
    tracking_number: str | None
    status: str
    carrier: str | None


_REMITTANCE = select(*(REMITTANCES.c[f.name] for f in fields(RemittanceRecord)))


def remittance(session: Session, carrier: str, reference: str) -> RemittanceRecord | None:
    """The carrier's remittance with this reference, if recorded."""
    row = session.execute(_REMITTANCE.where(REMITTANCES.c.carrier == carrier,
                                            REMITTANCES.c.reference == reference)).first()
    return None if row is None else RemittanceRecord(*row)


def tracking_numbers_paid(session: Session, remittance_id: str) -> list[str]:
    """The parcels a remittance pays for, sorted."""
    return sorted(session.scalars(select(PARCELS.c.tracking_number).where(
        PARCELS.c.remittance_id == remittance_id)))


def add_remittance(session: Session, record: RemittanceRecord,
                   tracking_numbers: Sequence[str]) -> None:
    """Store a remittance and the parcels it pays for."""
    session.execute(insert(REMITTANCES).values(
        {f.name: getattr(record, f.name) for f in fields(record)}))
    session.execute(insert(PARCELS), [{"remittance_id": record.remittance_id,
                                       "tracking_number": t} for t in tracking_numbers])


def orders_of_parcels(session: Session, tracking_numbers: Sequence[str]) -> list[str]:
    """The orders these parcels belong to, sorted."""
    return list(session.scalars(
        select(ORDERS.c.order_id).distinct()
        .join(SHIPMENTS, SHIPMENTS.c.order_id == ORDERS.c.order_id)
        .where(SHIPMENTS.c.tracking_number.in_(list(tracking_numbers)))
        .order_by(ORDERS.c.order_id)))


def parcels_of_order(session: Session, order_id: str, among: Sequence[str]) -> list[str]:
    """The order's tracking numbers that are among these, sorted."""
    return sorted(session.scalars(select(SHIPMENTS.c.tracking_number).where(
        SHIPMENTS.c.order_id == order_id, SHIPMENTS.c.tracking_number.in_(list(among)))))


_CARRIER_PARCEL = (
    select(SHIPMENTS.c.tracking_number, SHIPMENTS.c.status, SHIPMENTS.c.cod_due_minor,
           SHIPMENTS.c.cod_collected_minor, SHIPMENTS.c.delivered_at, ORDERS.c.currency,
           ORDERS.c.payment_method)
    .join(ORDERS, ORDERS.c.order_id == SHIPMENTS.c.order_id))


def carrier_parcels(session: Session, carrier: str) -> list[CarrierParcel]:
    """Every parcel of the carrier that has a tracking number (its whole history)."""
    return [CarrierParcel(*row) for row in session.execute(_CARRIER_PARCEL.where(
        SHIPMENTS.c.carrier == carrier, SHIPMENTS.c.tracking_number.is_not(None)))]


def remittances_of(session: Session, carrier: str) -> list[RemittanceRecord]:
    """The carrier's remittances, oldest first."""
    return [RemittanceRecord(*row) for row in session.execute(
        _REMITTANCE.where(REMITTANCES.c.carrier == carrier)
        .order_by(REMITTANCES.c.created_at, REMITTANCES.c.remittance_id))]


def parcels_paid_by(session: Session, remittance_ids: Sequence[str]) -> dict[str, list[str]]:
    """remittance id → the tracking numbers it pays for."""
    out: dict[str, list[str]] = defaultdict(list)
    for remittance_id, tracking_number in session.execute(
            select(PARCELS.c.remittance_id, PARCELS.c.tracking_number)
            .where(PARCELS.c.remittance_id.in_(list(remittance_ids)))):
        out[remittance_id].append(tracking_number)
    return out


def remittances_paying_for(session: Session,
                           tracking_numbers: Sequence[str]) -> dict[str, list[str]]:
    """tracking number → the remittances (of any carrier) that pay for it (remitted only)."""
    # Not joined to the carrier's remittances: SQLite's planner then starts from the carrier
    # index and reads every remittance the carrier ever sent.
    out: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(tracking_numbers):
        for tracking_number, remittance_id in session.execute(
                select(PARCELS.c.tracking_number, PARCELS.c.remittance_id)
                .where(PARCELS.c.tracking_number.in_(chunk))):
            out[tracking_number].append(remittance_id)
    return out


def remittances_by_id(session: Session, remittance_ids: Sequence[str]) -> list[RemittanceRecord]:
    """These remittances."""
    return [RemittanceRecord(*row) for chunk in _chunks(remittance_ids)
            for row in session.execute(_REMITTANCE.where(
                REMITTANCES.c.remittance_id.in_(chunk)))]


def parcels_of(session: Session, carrier: str,
               tracking_numbers: Sequence[str]) -> dict[str, CarrierParcel]:
    """The carrier's parcels with these tracking numbers (any other's are left out)."""
    return {row.tracking_number: CarrierParcel(*row) for chunk in _chunks(tracking_numbers)
            for row in session.execute(_CARRIER_PARCEL.where(
                SHIPMENTS.c.carrier == carrier, SHIPMENTS.c.tracking_number.in_(chunk)))}


def remitted_unsettled_cod_parcels(session: Session) -> list[UnsettledParcel]:
    """The live shipments of COD orders delivered, not yet settled, every live shipment of
    which some remittance pays for (any carrier's)."""
    # The order's conditions as literals, as the partial index ix_orders_cod_unsettled has
    # them: it holds only these orders (migration 0013), not every order delivered. The ones
    # still waiting for a remittance are left in the database: only an order remitted in full
    # can settle, and those are the few a settlement pass has to decide.
    other = SHIPMENTS.alias("other")
    unremitted = (select(other.c.shipment_id)
                  .where(other.c.order_id == ORDERS.c.order_id, other.c.status != "cancelled",
                         ~exists().where(PARCELS.c.tracking_number == other.c.tracking_number)))
    return [UnsettledParcel(*row) for row in session.execute(
        select(ORDERS.c.order_id, SHIPMENTS.c.tracking_number, SHIPMENTS.c.status,
               SHIPMENTS.c.carrier)
        .join(SHIPMENTS, SHIPMENTS.c.order_id == ORDERS.c.order_id)
        .where(ORDERS.c.payment_method == literal_column(f"'{PaymentMethod.COD}'"),
               ORDERS.c.status == literal_column(f"'{OrderStatus.DELIVERED}'"),
               ORDERS.c.settled_at.is_(None), SHIPMENTS.c.status != "cancelled",
               ~unremitted.exists()))]


def _chunks(values: Sequence[str], size: int = 500) -> list[list[str]]:
    """Bound each IN list (SQLite caps a statement's parameters)."""
    values = list(values)
    return [values[i:i + size] for i in range(0, len(values), size)]


def order(session: Session, order_id: str) -> Order:
    """The order (ORM: its payment is settled through it); it must exist."""
    found = session.get(Order, order_id)
    if found is None:
        raise LookupError(f"no order {order_id}")
    return found
