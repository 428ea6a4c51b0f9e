"""Hand-off to the carrier (a manifest), tracking, delivery.

At hand-off the hard-locked units leave the building: `on_hand` and `hard_locked` go down by
the units shipped, the order's locks on them disappear, and the order is SHIPPED once every one
of its (not cancelled) shipments is. Tracking events are kept as the carrier reports them; only
delivery changes a shipment's state again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.domain.cards import contains_card_number
from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.domain.events import EventType
from core.domain.money import format_money
from core.domain.order import OrderStatus, PaymentMethod
from core.persistence.fulfillment_models import Shipment
from core.persistence.models import Order
from core.persistence.repos import shipping as repo
from core.persistence.repos.shipping import ManifestRecord, Parcel
from core.service import events
from core.service.saga_steps import webhook_seen

TRACKING_STATUSES = ("in_transit", "out_for_delivery", "failed_attempt", "delivered")
HANDED_OFF = ("shipped", "delivered")


@dataclass(frozen=True)
class ManifestParcel:
    """What the manifest prints for one parcel (read before the PDF is rendered)."""

    tracking_number: str
    order_id: str
    destination: str
    weight_grams: int
    cod_minor: int
    currency: str


@dataclass(frozen=True)
class ManifestDraft:
    """The parcels of a hand-off and where they leave from, for the manifest PDF."""

    carrier: str
    parcels: list[ManifestParcel]
    fc_id: str
    fc_name: str
    fc_address: dict[str, Any]


def _clean_tracking_numbers(carrier: str, tracking_numbers: list[str]) -> list[str]:
    if not carrier.strip():
        raise InvalidArgument("carrier is required (e.g. 'sandbox')", field="carrier")
    numbers = [t.strip() for t in tracking_numbers]
    if not numbers or any(not t for t in numbers):
        raise InvalidArgument("tracking_numbers must list the parcels handed off (none empty)",
                              field="tracking_numbers")
    dupes = sorted(t for t, n in Counter(numbers).items() if n > 1)
    if dupes:
        raise InvalidArgument(f"tracking numbers listed twice: {', '.join(dupes)}",
                              field="tracking_numbers")
    return numbers


def _offenders(rows: dict[str, Parcel], carrier: str, numbers: list[str]) -> list[str]:
    out = []
    for t in numbers:
        row = rows.get(t)
        if row is None:
            out.append(f"{t}: unknown tracking number")
        elif row.carrier != carrier:
            out.append(f"{t}: belongs to carrier {row.carrier!r}, not {carrier!r}")
        elif row.status in HANDED_OFF:
            out.append(f"{t}: already shipped (manifest {row.manifest_id})")
        elif row.status != "packed":
            out.append(f"{t}: not packed (its status is {row.status!r})")
    return out


def plan_hand_off(session: Session, carrier: str, tracking_numbers: list[str]) -> ManifestDraft:
    """Check the parcels can be handed off and gather what the manifest prints."""
    numbers = _clean_tracking_numbers(carrier, tracking_numbers)
    rows = repo.parcels(session, numbers, lock=False)
    bad = _offenders(rows, carrier, numbers)
    if bad:
        raise FailedPrecondition("cannot hand off; nothing was shipped: " + "; ".join(bad))
    orders = repo.parcel_orders(session, {r.order_id for r in rows.values()})
    parcels = []
    for t in numbers:
        row, order = rows[t], orders[rows[t].order_id]
        to = order.ship_to or {}
        destination = ", ".join(p for p in (to.get("city"), to.get("postal_code")) if p)
        parcels.append(ManifestParcel(t, row.order_id, destination or "—",
                                      row.weight_grams or 0, row.cod_due_minor or 0,
                                      order.currency))
    fc_id = rows[numbers[0]].fc_id
    fc = repo.fc(session, fc_id)
    return ManifestDraft(carrier, parcels, fc_id, fc.name if fc else fc_id,
                         dict(fc.address or {}) if fc else {})


def hand_off(session: Session, carrier: str, tracking_numbers: list[str], manifest_id: str,
             pdf: bytes | None, now: datetime) -> list[str]:
    """Ship the parcels on one manifest, all or nothing; returns the orders that became SHIPPED."""
    numbers = _clean_tracking_numbers(carrier, tracking_numbers)
    rows = repo.parcels(session, numbers, lock=True)
    bad = _offenders(rows, carrier, numbers)
    if bad:
        raise FailedPrecondition("cannot hand off; nothing was shipped: " + "; ".join(bad))
    repo.add_manifest(session, ManifestRecord(manifest_id, carrier, numbers, pdf, now))
    repo.mark_shipped(session, [rows[t].shipment_id for t in numbers], manifest_id, now)
    for row in rows.values():
        _take_units_out(session, row)
    shipped = []
    for order_id in sorted({r.order_id for r in rows.values()}):
        if repo.all_shipments_in(session, order_id, HANDED_OFF):
            order = repo.order_for_update(session, order_id)
            order.transition(OrderStatus.SHIPPED)
            order.updated_at = now
            mine = sorted(t for t, r in rows.items() if r.order_id == order_id)
            events.record(session, order, EventType.ORDER_SHIPPED, now,
                          f"handed to {carrier}: {', '.join(mine)} (manifest {manifest_id})")
            shipped.append(order_id)
    session.flush()
    return shipped


@dataclass(frozen=True)
class StoredManifest:
    manifest_id: str
    carrier: str
    tracking_numbers: list[str]
    pdf: bytes
    created_at: datetime


def get_manifest(session: Session, manifest_id: str) -> StoredManifest:
    """A manifest as stored at hand-off, with its PDF (for a reprint)."""
    if not manifest_id.strip():
        raise InvalidArgument("manifest_id is required (printed under the manifest's barcode)",
                              field="manifest_id")
    row = repo.manifest(session, manifest_id)
    if row is None:
        raise NotFound(f"no manifest {manifest_id[:64]!r}")
    return StoredManifest(row.manifest_id, row.carrier, list(row.tracking_numbers),
                          row.pdf or b"", row.created_at)


def _take_units_out(session: Session, shipment: Parcel) -> None:
    """The shipment's picked units leave stock: on_hand and hard locks go down together."""
    for sku, units in sorted(repo.units_picked(session, shipment.shipment_id).items()):
        if units > 0 and not repo.take_out(session, shipment, sku, units):
            raise FailedPrecondition(
                f"{shipment.tracking_number}: {units}×{sku} were not hard-locked at "
                f"{shipment.fc_id} for order {shipment.order_id}; pack it again")


_RANK = {"shipped": 0, "in_transit": 1, "out_for_delivery": 2, "failed_attempt": 2,
         "delivered": 3}


# A carrier's scan location is kept (and streamed to storefronts) as a short place name.
LOCATION_CHARS = 256
WITHHELD = "(location withheld: it looked like a card number)"


def _place_name(location: str) -> str:
    """The location as tote keeps it: its first 256 characters, and never a card number (a
    carrier's webhook or poll is not refused over its place name: the scan itself matters)."""
    location = location[:LOCATION_CHARS]
    return WITHHELD if contains_card_number(location) else location


def record_tracking_event(
    session: Session, tracking_number: str, status: str, location: str,
    cod_collected: tuple[int, str] | None, occurred_at: datetime, source: str, now: datetime,
) -> str:
    """Apply one carrier scan to its parcel (duplicates change nothing); returns the order id."""
    if status not in TRACKING_STATUSES:
        raise InvalidArgument(f"status must be one of {', '.join(TRACKING_STATUSES)}; "
                              f"got {status!r}", field="status")
    shipment = repo.parcel_for_update(session, tracking_number)
    if shipment is None:
        raise NotFound(f"no parcel with tracking number {tracking_number[:64]!r}")
    if shipment.status not in HANDED_OFF:
        raise FailedPrecondition(f"{tracking_number} has not been handed off yet (status "
                                 f"{shipment.status!r}): hand it off with a manifest first")
    order = repo.order_for_update(session, shipment.order_id)
    collected = _cod_collected(shipment, order, status, cod_collected)
    if repo.tracking_event_seen(session, tracking_number, status, occurred_at):
        return order.order_id
    location = _place_name(location)
    repo.add_tracking_event(session, tracking_number, status, location, collected, source,
                            occurred_at)
    if shipment.status == "delivered":
        return order.order_id  # late or repeated scans are kept, the parcel stays delivered
    where = f" at {location}" if location else ""
    if status != "delivered":
        kind = (EventType.ORDER_OUT_FOR_DELIVERY if status == "out_for_delivery"
                else EventType.TRACKING_UPDATED)
        events.record(session, order, kind, now,
                      f"{tracking_number} {status.replace('_', ' ')}{where}")
        return order.order_id
    shipment.status, shipment.delivered_at, shipment.updated_at = "delivered", occurred_at, now
    shipment.cod_collected_minor = collected
    if collected:
        events.record(session, order, EventType.COD_COLLECTED, now,
                      f"{tracking_number}: {format_money(collected, order.currency)} collected"
                      f"{where}")
    session.flush()
    if repo.all_shipments_in(session, order.order_id, ("delivered",)):
        order.transition(OrderStatus.DELIVERED)
        order.updated_at = now
        if order.payment_method == PaymentMethod.COD:
            order.payment_state = "cod_collected"
        events.record(session, order, EventType.ORDER_DELIVERED, now,
                      f"{tracking_number} delivered{where}")
    return order.order_id


def _cod_collected(shipment: Shipment, order: Order, status: str,
                   reported: tuple[int, str] | None) -> int | None:
    """The cash the courier took at delivery (None for prepaid parcels and other scans)."""
    if status != "delivered":
        if reported is not None and reported[0]:
            raise InvalidArgument("cod_collected is only reported with status 'delivered'",
                                  field="cod_collected")
        return None
    if order.payment_method != PaymentMethod.COD:
        if reported is not None and reported[0]:
            raise InvalidArgument(f"{shipment.tracking_number} is prepaid: no cash is collected "
                                  "on delivery, leave cod_collected empty", field="cod_collected")
        return None
    if reported is None:
        # The courier cannot hand over a COD parcel without taking the amount on its label.
        return shipment.cod_due_minor
    amount, currency = reported
    if currency != order.currency:
        raise InvalidArgument(f"cod_collected.currency is {currency[:16]!r} but the order is "
                              f"in {order.currency}", field="cod_collected.currency")
    if amount < 0:
        raise InvalidArgument("cod_collected must not be negative", field="cod_collected")
    return amount


def apply_carrier_tracking(
    session: Session, tracking_number: str, scans: list[tuple[str, str, datetime]],
    source: str, webhook_event_id: str | None, now: datetime,
) -> bool:
    """Apply the carrier's view of a parcel (webhook or poll): each scan once, oldest first.

    Returns False when there is nothing to apply it to (unknown parcel, not handed off yet,
    a webhook already handled).
    """
    if repo.parcel_status(session, tracking_number) not in HANDED_OFF:
        return False
    if webhook_event_id is not None and webhook_seen(
            session, webhook_event_id, "shipment.tracking_updated", now):
        return False
    for scan_status, location, at in sorted(scans, key=lambda s: (s[2], _RANK.get(s[0], 0))):
        if scan_status in TRACKING_STATUSES:
            record_tracking_event(session, tracking_number, scan_status, location, None, at,
                                  source, now)
            session.flush()
    return True


def due_for_polling(session: Session, limit: int = 200) -> list[str]:
    """Parcels handed off and not delivered yet, least recently touched first."""
    return repo.due_for_polling(session, limit)
