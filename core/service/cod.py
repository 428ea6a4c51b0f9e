"""Cash on delivery: the carriers' remittances against the cash their couriers collected.

A remittance is recorded as the carrier sent it, however wrong; what does not add up is
reported by the reconciliation, one discrepancy per fault, for a person to chase.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.domain.errors import FailedPrecondition, InvalidArgument
from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.money import Money, format_money
from core.domain.order import PaymentMethod
from core.persistence.repos import cod as repo
from core.persistence.repos.cod import CarrierParcel, RemittanceRecord
from core.service import events


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
    tracking_numbers: list[str], now: datetime,
) -> Remittance:
    """Record a carrier's transfer for a set of parcels; the same reference again is a no-op."""
    numbers = _validate(carrier, reference, amount_minor, currency, tracking_numbers)
    existing = repo.remittance(session, carrier, reference)
    if existing is not None:
        had = repo.tracking_numbers_paid(session, existing.remittance_id)
        if (existing.amount_minor, existing.currency, had) != (amount_minor, currency,
                                                               sorted(numbers)):
            raise FailedPrecondition(
                f"remittance {reference!r} of {carrier} was already recorded with other "
                "amounts or parcels; a correction needs a new reference")
        return Remittance(existing.remittance_id, carrier, reference, amount_minor, currency,
                          numbers)
    remittance_id = new_id("rem")
    repo.add_remittance(session, RemittanceRecord(remittance_id, carrier, reference,
                                                  amount_minor, currency, now), numbers)
    for order_id in repo.orders_of_parcels(session, numbers):
        order = repo.order(session, order_id)
        mine = repo.parcels_of_order(session, order_id, numbers)
        events.record(session, order, EventType.COD_REMITTED, now,
                      f"{carrier} remittance {reference}: {', '.join(mine)}")
    settle_reconciled(session, carrier, now)
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
    # The carrier's whole history, every parcel and remittance: a person asks for it
    # (GetCodReconciliation, the console's COD view). The settlement pass, every minute in
    # the writer, must not: settle_reconciled applies these rules to the unsettled orders.
    if not carrier.strip():
        raise InvalidArgument("carrier is required", field="carrier")
    parcels = {p.tracking_number: p for p in repo.carrier_parcels(session, carrier)}
    remittances = repo.remittances_of(session, carrier)
    covers = repo.parcels_paid_by(session, [r.remittance_id for r in remittances])
    currencies = [p.currency for p in parcels.values()] + [r.currency for r in remittances]
    rec = Reconciliation(currency=currencies[0] if currencies else "")
    for t, p in sorted(parcels.items()):
        if p.status == "delivered" and p.payment_method == PaymentMethod.COD:
            rec.expected_minor += p.cod_due_minor or 0
            rec.collected_minor += p.cod_collected_minor or 0
        if (collection := _collection_discrepancy(t, p)) is not None:
            rec.discrepancies.append(collection)
    remitted_once: set[str] = set()
    for r in remittances:
        rec.remitted_minor += r.amount_minor
        paid_for = sorted(covers.get(r.remittance_id, []))
        rec.discrepancies += _check_remittance(r, paid_for, parcels, remitted_once)
    overdue = now - timedelta(days=remit_days)
    for t, p in sorted(parcels.items()):
        took = p.cod_collected_minor or 0
        if (p.status == "delivered" and took > 0
                and t not in remitted_once and p.delivered_at is not None
                and p.delivered_at <= overdue):
            rec.discrepancies.append(Discrepancy(
                t, "collected_not_remitted", took, 0,
                f"{format_money(took, p.currency)} collected on "
                f"{p.delivered_at:%Y-%m-%d}, not remitted after {remit_days} days"))
    return rec


def _collection_discrepancy(t: str, p: CarrierParcel) -> Discrepancy | None:
    if p.status != "delivered" or p.payment_method != PaymentMethod.COD:
        return None
    due, took = p.cod_due_minor or 0, p.cod_collected_minor or 0
    if took == due:
        return None
    # The courier took another amount than the label's: the carrier owes the difference (or
    # the customer is owed it), whatever the carrier remits.
    kind = "short_collection" if took < due else "excess_collection"
    return Discrepancy(t, kind, due, took, f"{t}: the courier collected "
                       f"{Money(took, p.currency)} of the {Money(due, p.currency)} on its label")


def _check_remittance(r: RemittanceRecord, numbers: list[str],
                      parcels: dict[str, CarrierParcel],
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


def settle_reconciled(session: Session, carrier: str, now: datetime) -> list[str]:
    """The carrier's COD orders delivered, every parcel remitted, none in a discrepancy, are
    settled; their ids."""
    return _settle(session, carrier, _unsettled_by_order(session), now)


def settle_all_reconciled(session: Session, now: datetime) -> list[str]:
    """settle_reconciled for every carrier of a remitted, unsettled COD parcel; the orders
    settled."""
    by_order = _unsettled_by_order(session)
    carriers = sorted({r.carrier for rows in by_order.values() for r in rows if r.carrier})
    return [o for c in carriers for o in _settle(session, c, by_order, now)]


def _unsettled_by_order(session: Session) -> dict[str, list[repo.UnsettledParcel]]:
    by_order: dict[str, list[repo.UnsettledParcel]] = defaultdict(list)
    for row in repo.remitted_unsettled_cod_parcels(session):
        by_order[row.order_id].append(row)
    return by_order


def _settle(session: Session, carrier: str, by_order: dict[str, list[repo.UnsettledParcel]],
            now: datetime) -> list[str]:
    # An order with a parcel of another carrier never settles on this one's remittances: that
    # parcel is unremitted, or this carrier remitted it and it is an unknown parcel there.
    mine = {order_id: rows for order_id, rows in by_order.items()
            if all(r.carrier == carrier and r.tracking_number for r in rows)}
    cleared = _cleared(session, carrier,
                       [r.tracking_number for rows in mine.values() for r in rows
                        if r.tracking_number])
    settled = []
    for order_id, rows in sorted(mine.items()):
        if all(r.tracking_number in cleared for r in rows):
            order = repo.order(session, order_id)
            order.settled_at, order.payment_state, order.updated_at = now, "settled", now
            events.record(session, order, EventType.PAYMENT_SETTLED, now,
                          "cash on delivery remitted by " + carrier + " and reconciled")
            settled.append(order_id)
    session.flush()
    return settled


def _cleared(session: Session, carrier: str, tracking_numbers: list[str]) -> set[str]:
    """Those of the parcels that the carrier remitted and reconcile() finds no fault with.

    reconcile() over the carrier's whole history, read for these parcels only: a parcel's
    faults are its own collection and those of the remittances that pay for it (each checked
    against every parcel it pays for), so those remittances are all it needs to read."""
    paying = repo.remittances_paying_for(session, tracking_numbers)
    remittances = {r.remittance_id: r for r in repo.remittances_by_id(
        session, sorted({i for ids in paying.values() for i in ids})) if r.carrier == carrier}
    covering = {t: ids for t, ids in paying.items() if any(i in remittances for i in ids)}
    paid_for = repo.parcels_paid_by(session, sorted(remittances))
    parcels = repo.parcels_of(session, carrier, sorted({t for ts in paid_for.values()
                                                        for t in ts}))
    faults: list[Discrepancy] = []
    remitted_once: set[str] = set()  # in reconcile()'s order: a double is the later one
    for r in sorted(remittances.values(), key=lambda r: (r.created_at, r.remittance_id)):
        faults += _check_remittance(r, sorted(paid_for[r.remittance_id]), parcels,
                                    remitted_once)
    faults += [d for t in covering if t in parcels
               if (d := _collection_discrepancy(t, parcels[t])) is not None]
    troubled = {t for d in faults for t in d.tracking_number.split(",")}
    return {t for t in covering if t not in troubled}
