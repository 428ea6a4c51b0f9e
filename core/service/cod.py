"""Cash on delivery: the carriers' remittances against the cash their couriers collected.

A remittance is recorded as the carrier sent it, however wrong; what does not add up is
reported by the reconciliation, one discrepancy per fault, for a person to chase.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.domain.errors import FailedPrecondition, InvalidArgument
from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.money import Money, format_money
from core.domain.order import PaymentMethod
from core.persistence.fulfillment_models import CodRemittance, CodRemittanceParcel, Shipment
from core.persistence.models import Order
from core.service import events

REMITTANCES = CodRemittance.__table__
PARCELS = CodRemittanceParcel.__table__
SHIPMENTS = Shipment.__table__
ORDERS = Order.__table__


@dataclass(frozen=True)
class Remittance:
    """A recorded remittance, as RecordCodRemittance answers it."""

    remittance_id: str
    carrier: str
    reference: str
    amount_minor: int
    currency: str
    tracking_numbers: list[str]


@dataclass(frozen=True)
class Discrepancy:
    """One thing that does not add up (kinds as in the API: short_remittance, …)."""

    tracking_number: str
    kind: str
    expected_minor: int
    actual_minor: int
    detail: str


@dataclass
class Reconciliation:
    """A carrier's COD money: expected, collected, remitted, and every discrepancy."""

    currency: str
    expected_minor: int = 0
    collected_minor: int = 0
    remitted_minor: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)


def record_remittance(
    session: Session, carrier: str, reference: str, amount_minor: int, currency: str,
    tracking_numbers: list[str], now: datetime, remit_days: int,
) -> Remittance:
    """Record a carrier's transfer for a set of parcels; the same reference again is a no-op."""
    numbers = _validate(carrier, reference, amount_minor, currency, tracking_numbers)
    existing = session.execute(select(REMITTANCES).where(
        REMITTANCES.c.carrier == carrier, REMITTANCES.c.reference == reference)).first()
    if existing is not None:
        had = sorted(session.scalars(select(PARCELS.c.tracking_number).where(
            PARCELS.c.remittance_id == existing.remittance_id)))
        if (existing.amount_minor, existing.currency, had) != (amount_minor, currency,
                                                               sorted(numbers)):
            raise FailedPrecondition(
                f"remittance {reference!r} of {carrier} was already recorded with other "
                "amounts or parcels; a correction needs a new reference")
        return Remittance(existing.remittance_id, carrier, reference, amount_minor, currency,
                          numbers)
    remittance_id = new_id("rem")
    session.execute(insert(REMITTANCES).values(
        remittance_id=remittance_id, carrier=carrier, reference=reference,
        amount_minor=amount_minor, currency=currency, created_at=now))
    session.execute(insert(PARCELS), [{"remittance_id": remittance_id, "tracking_number": t}
                                      for t in numbers])
    covered = session.execute(select(ORDERS.c.order_id).distinct().join(
        SHIPMENTS, SHIPMENTS.c.order_id == ORDERS.c.order_id).where(
        SHIPMENTS.c.tracking_number.in_(numbers)).order_by(ORDERS.c.order_id))
    for (order_id,) in covered:
        order = session.get(Order, order_id)
        assert order is not None
        mine = sorted(session.scalars(select(SHIPMENTS.c.tracking_number).where(
            SHIPMENTS.c.order_id == order_id, SHIPMENTS.c.tracking_number.in_(numbers))))
        events.record(session, order, EventType.COD_REMITTED, now,
                      f"{carrier} remittance {reference}: {', '.join(mine)}")
    settle_reconciled(session, carrier, now, remit_days)
    return Remittance(remittance_id, carrier, reference, amount_minor, currency, numbers)


def _validate(carrier: str, reference: str, amount_minor: int, currency: str,
              tracking_numbers: list[str]) -> list[str]:
    if not carrier.strip() or len(carrier) > 64:
        raise InvalidArgument("carrier is required, at most 64 characters", field="carrier")
    if not reference.strip() or len(reference) > 128:
        raise InvalidArgument("reference (the bank transfer's reference) is required, at most "
                              "128 characters", field="reference")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidArgument(f"amount.currency must be an ISO 4217 code like 'INR', got "
                              f"{currency!r}", field="amount.currency")
    if amount_minor < 0:
        raise InvalidArgument("amount must not be negative", field="amount.amount_minor")
    numbers = [t.strip() for t in tracking_numbers]
    if not numbers or any(not t or len(t) > 64 for t in numbers):
        raise InvalidArgument("tracking_numbers must list the parcels this transfer pays for "
                              "(each at most 64 characters)",
                              field="tracking_numbers")
    if len(set(numbers)) != len(numbers):
        raise InvalidArgument("a tracking number is listed twice in one remittance",
                              field="tracking_numbers")
    return numbers


def reconcile(session: Session, carrier: str, now: datetime, remit_days: int) -> Reconciliation:
    """Expected, collected and remitted cash of a carrier, with every discrepancy."""
    if not carrier.strip():
        raise InvalidArgument("carrier is required", field="carrier")
    parcels = {r.tracking_number: r for r in session.execute(
        select(SHIPMENTS.c.tracking_number, SHIPMENTS.c.status, SHIPMENTS.c.cod_due_minor,
               SHIPMENTS.c.cod_collected_minor, SHIPMENTS.c.delivered_at, ORDERS.c.currency,
               ORDERS.c.payment_method)
        .join(ORDERS, ORDERS.c.order_id == SHIPMENTS.c.order_id)
        .where(SHIPMENTS.c.carrier == carrier, SHIPMENTS.c.tracking_number.is_not(None)))}
    remittances = list(session.execute(select(REMITTANCES).where(
        REMITTANCES.c.carrier == carrier).order_by(REMITTANCES.c.created_at,
                                                   REMITTANCES.c.remittance_id)))
    covers: dict[str, list[str]] = defaultdict(list)
    for row in session.execute(select(PARCELS).where(PARCELS.c.remittance_id.in_(
            [r.remittance_id for r in remittances]))):
        covers[row.remittance_id].append(row.tracking_number)
    currencies = [p.currency for p in parcels.values()] + [r.currency for r in remittances]
    rec = Reconciliation(currency=currencies[0] if currencies else "")
    for t, p in sorted(parcels.items()):
        if p.status == "delivered" and p.payment_method == PaymentMethod.COD:
            rec.expected_minor += p.cod_due_minor or 0
            rec.collected_minor += p.cod_collected_minor or 0
            due, took = p.cod_due_minor or 0, p.cod_collected_minor or 0
            if took != due:
                # The courier took another amount than the label's: the carrier owes the
                # difference (or the customer is owed it), whatever the carrier remits.
                kind = "short_collection" if took < due else "excess_collection"
                rec.discrepancies.append(Discrepancy(
                    t, kind, due, took, f"{t}: the courier collected {Money(took, p.currency)} "
                    f"of the {Money(due, p.currency)} on its label"))
    remitted_once: set[str] = set()
    for r in remittances:
        rec.remitted_minor += r.amount_minor
        rec.discrepancies += _check_remittance(r, sorted(covers[r.remittance_id]), parcels,
                                               remitted_once)
    overdue = now - timedelta(days=remit_days)
    for t, p in sorted(parcels.items()):
        if (p.status == "delivered" and (p.cod_collected_minor or 0) > 0
                and t not in remitted_once and p.delivered_at is not None
                and p.delivered_at <= overdue):
            rec.discrepancies.append(Discrepancy(
                t, "collected_not_remitted", p.cod_collected_minor, 0,
                f"{format_money(p.cod_collected_minor, p.currency)} collected on "
                f"{p.delivered_at:%Y-%m-%d}, not remitted after {remit_days} days"))
    return rec


def _check_remittance(r: Any, numbers: list[str], parcels: dict[str, Any],
                      remitted_once: set[str]) -> list[Discrepancy]:
    out = []
    due = 0
    for t in numbers:
        p = parcels.get(t)
        if p is None or p.payment_method != PaymentMethod.COD:
            what = "no COD parcel of this carrier" if p is None else "a prepaid parcel"
            out.append(Discrepancy(t, "unknown_parcel", 0, 0,
                                   f"remittance {r.reference} pays for {t}: {what}"))
            continue
        if p.status != "delivered":
            out.append(Discrepancy(t, "not_delivered", 0, 0,
                                   f"remittance {r.reference} pays for {t}, which is "
                                   f"{p.status}, not delivered"))
            continue
        due += p.cod_collected_minor or 0
        if t in remitted_once:
            out.append(Discrepancy(t, "double_remittance", 0, p.cod_collected_minor or 0,
                                   f"{t} was already remitted before remittance {r.reference}"))
        remitted_once.add(t)
    if r.amount_minor != due:
        kind = "short_remittance" if r.amount_minor < due else "excess_remittance"
        out.append(Discrepancy(",".join(numbers), kind, due, r.amount_minor,
                               f"remittance {r.reference}: {Money(r.amount_minor, r.currency)} "
                               f"for parcels that collected {Money(due, r.currency)}"))
    return out


def settle_reconciled(session: Session, carrier: str, now: datetime, remit_days: int) -> list[str]:
    """COD orders delivered, fully remitted and without discrepancy are settled; their ids."""
    rec = reconcile(session, carrier, now, remit_days)
    troubled = {t for d in rec.discrepancies for t in d.tracking_number.split(",")}
    remitted = set(session.scalars(select(PARCELS.c.tracking_number).join(
        REMITTANCES, REMITTANCES.c.remittance_id == PARCELS.c.remittance_id).where(
        REMITTANCES.c.carrier == carrier)))
    candidates = session.execute(
        select(ORDERS.c.order_id, SHIPMENTS.c.tracking_number, SHIPMENTS.c.status,
               SHIPMENTS.c.carrier)
        .join(SHIPMENTS, SHIPMENTS.c.order_id == ORDERS.c.order_id)
        .where(ORDERS.c.payment_method == PaymentMethod.COD, ORDERS.c.status == "DELIVERED",
               ORDERS.c.settled_at.is_(None), SHIPMENTS.c.status != "cancelled"))
    by_order: dict[str, list[Any]] = defaultdict(list)
    for row in candidates:
        by_order[row.order_id].append(row)
    settled = []
    for order_id, rows in sorted(by_order.items()):
        if not any(r.carrier == carrier for r in rows):
            continue
        if all(r.tracking_number in remitted and r.tracking_number not in troubled
               for r in rows):
            order = session.get(Order, order_id)
            assert order is not None
            order.settled_at, order.payment_state, order.updated_at = now, "settled", now
            events.record(session, order, EventType.PAYMENT_SETTLED, now,
                          "cash on delivery remitted by " + carrier + " and reconciled")
            settled.append(order_id)
    session.flush()
    return settled


def settle_all_reconciled(session: Session, now: datetime, remit_days: int) -> list[str]:
    """settle_reconciled for every carrier that has remitted; the orders settled."""
    carriers = session.scalars(select(REMITTANCES.c.carrier).distinct())
    return [o for c in sorted(carriers) for o in settle_reconciled(session, c, now, remit_days)]
