"""Packing's durable transitions: the intent (weight gate passed), each outside call's result,
PACKED, or the cancellation after a failed capture. Each runs in one transaction with its events.

Every transition is a compare-and-set on the shipment's or the order's state, so running one
twice (a retried PackOrder, the resume worker after a crash, two replicas) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain import packing as rules
from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from core.domain.events import EventType
from core.domain.money import Money
from core.domain.order import (
    InventoryState,
    OrderStatus,
    PaymentMethod,
    PaymentState,
)
from core.domain.packing_commands import ClaimedPackings
from core.domain.words import count
from core.persistence.repos import orders as order_repo
from core.persistence.repos import routing as routing_repo
from core.persistence.repos import shipments as repo
from core.persistence.repos.orders import OrderRecord
from core.persistence.repos.shipments import ShipmentRecord
from core.service import events, inventory, shipments
from core.service.catalog import return_address

# A shipment in one of these still counts towards the order; "cancelled" ones do not.
_LIVE = ("pending", "picking", "picked", "packing", "packed", "shipped", "delivered")
_PACKABLE = ("pending", "picking", "picked")


@dataclass(frozen=True, slots=True)
class PackingRules:
    """The weight gate's tolerance and the carrier's rate (from FulfillmentSettings)."""

    tolerance_pct: int = 10
    tolerance_min_g: int = 50
    rate: rules.CarrierRate = field(default_factory=rules.CarrierRate)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where one shipment's packing is, and what its remaining outside calls need."""

    shipment_id: str
    shipment_status: str
    order_id: str
    order_status: str
    fc_id: str
    method: PaymentMethod
    payment_state: str
    currency: str
    total_minor: int
    authorization_id: str | None
    capture_id: str | None
    is_last: bool
    final: rules.FinalAmounts
    weight_grams: int
    cod_due_minor: int
    tracking_number: str | None
    carrier: str | None
    service: str | None
    has_label: bool
    ship_to: dict[str, Any]
    ship_from: dict[str, Any]
    fc_name: str
    lines: tuple[tuple[str, int], ...]  # (sku, units packed)

    @property
    def payment_done(self) -> bool:
        """The money step is behind us (or not this shipment's to take)."""
        if not self.is_last or self.method == PaymentMethod.COD:
            return True
        return self.payment_state == PaymentState.CAPTURED


def _lock_order(conn: Connection, order_id: str) -> OrderRecord:
    order = order_repo.lock(conn, order_id)
    if order is None:
        raise NotFound(f"no order {order_id[:64]!r}")
    return order


def _shipment(conn: Connection, shipment_id: str) -> ShipmentRecord:
    shipment = repo.get(conn, shipment_id)
    if shipment is None:
        raise NotFound(f"no shipment {shipment_id[:64]!r}")
    return shipment


def _choose(all_shipments: list[ShipmentRecord], order_id: str,
            shipment_id: str) -> ShipmentRecord:
    live = [s for s in all_shipments if s.status in _LIVE]
    if shipment_id:
        for s in all_shipments:
            if s.shipment_id == shipment_id:
                return s
        raise NotFound(f"order {order_id} has no shipment {shipment_id[:64]!r}")
    if not live:
        raise FailedPrecondition(f"order {order_id} has no shipment to pack yet: it is packed "
                                 "once it has been routed to an FC and picked")
    if len(live) > 1:
        names = ", ".join(f"{s.shipment_id} from {s.fc_id}" for s in live)
        raise InvalidArgument(f"order {order_id} ships in {len(live)} parcels ({names}): "
                              "say which one in shipment_id", field="shipment_id")
    return live[0]


def begin(session: Session, order_id: str, shipment_id: str, weight_grams: int, box: str,
          packing: PackingRules, fc_scope: str | None, now: datetime) -> str:
    """Pass the weight gate and record the packing intent; returns the shipment id.

    A shipment already packing or packed is returned as it is (a retried PackOrder resumes).
    """
    conn = session.connection()
    order = _lock_order(conn, order_id)
    all_shipments = repo.of_order(conn, order_id)
    shipment = _choose(all_shipments, order_id, shipment_id)
    if fc_scope is not None and shipment.fc_id != fc_scope:
        raise PermissionDenied(f"shipment {shipment.shipment_id} ships from {shipment.fc_id}; "
                               f"this handheld's token works at {fc_scope} only")
    if shipment.status in ("packing", "packed"):
        return str(shipment.shipment_id)
    if order.status not in (OrderStatus.PROCESSING, OrderStatus.PICKING) or order.cancel_requested:
        why = order.cancel_reason or order.cancel_requested or order.status
        raise FailedPrecondition(f"order {order_id} cannot be packed: it is {order.status} "
                                 f"({why}); put the items back")
    if shipment.status not in _PACKABLE:
        raise FailedPrecondition(f"shipment {shipment.shipment_id} is {shipment.status}; "
                                 "only a picked shipment can be packed")
    fc = routing_repo.fc(conn, shipment.fc_id)
    # The label names the FC as sender: without a return address nothing is captured/booked.
    return_address(shipment.fc_id, fc.address if fc is not None else None)
    lines = repo.packed_lines(conn, shipment.shipment_id)
    rules.check_picked(lines)
    rules.check_weight(weight_grams, rules.expected_weight(lines, ""), box,
                       packing.tolerance_pct, packing.tolerance_min_g)

    value = rules.packed_value(lines)
    others = [s for s in all_shipments
              if s.shipment_id != shipment.shipment_id and s.status in _LIVE]
    # The one packed last takes the money for every parcel (one capture per authorization).
    is_last = all(s.status not in _PACKABLE for s in others)
    km = 0.0
    if fc is not None and order.ship_to.get("latitude") is not None:
        km = rules.distance_km(fc.latitude, fc.longitude, float(order.ship_to["latitude"]),
                               float(order.ship_to.get("longitude") or 0.0))
    cost = packing.rate.cost(weight_grams, km)
    cod_due = 0
    if order.payment_method == PaymentMethod.COD:
        cod_due = value + (order.shipping_fee_minor if is_last else 0)
    repo.begin_packing(conn, shipment.shipment_id, weight_grams, box, value, cost, cod_due, now)
    if order.status == OrderStatus.PROCESSING:
        # Picking may not have marked the order yet; PACKED is reached through PICKING.
        order.transition(OrderStatus.PICKING)
        order.updated_at = now
        order_repo.save(conn, order)
    return str(shipment.shipment_id)


def progress(session: Session, shipment_id: str) -> Progress | None:
    """What is done and what is left of packing this shipment (None: no such shipment)."""
    conn = session.connection()
    shipment = repo.get(conn, shipment_id)
    if shipment is None:
        return None
    order = order_repo.read(conn, shipment.order_id)
    if order is None:
        raise NotFound(f"no order {shipment.order_id!r}")
    all_shipments = repo.of_order(conn, order.order_id)
    others = [s for s in all_shipments if s.shipment_id != shipment_id and s.status in _LIVE]
    is_last = all(s.status not in _PACKABLE for s in others)
    packed_minor = sum(s.value_minor for s in all_shipments if s.status in _LIVE)
    method = PaymentMethod(order.payment_method)
    final = rules.final_amounts(method, packed_minor, order.shipping_fee_minor,
                                order.authorized_minor)
    fc = routing_repo.fc(conn, shipment.fc_id)
    lines = repo.packed_lines(conn, shipment_id)
    return Progress(
        shipment_id=shipment_id, shipment_status=shipment.status, order_id=order.order_id,
        order_status=order.status, fc_id=shipment.fc_id, method=method,
        payment_state=order.payment_state, currency=order.currency,
        total_minor=order.total_minor, authorization_id=order.authorization_id,
        capture_id=order.capture_id, is_last=is_last, final=final,
        weight_grams=shipment.weight_grams or 0, cod_due_minor=shipment.cod_due_minor,
        tracking_number=shipment.tracking_number, carrier=shipment.carrier,
        service=shipment.service, has_label=shipment.label_pdf is not None,
        ship_to=dict(order.ship_to), ship_from=dict(fc.address or {}) if fc else {},
        fc_name=fc.name if fc else shipment.fc_id,
        lines=tuple((ln.sku, ln.picked) for ln in lines if ln.picked > 0))


def record_capture(session: Session, order_id: str, capture_id: str, captured_minor: int,
                   refunded_minor: int, now: datetime) -> None:
    """The final amount is taken (card capture, or a UPI debit less its refund)."""
    conn = session.connection()
    order = _lock_order(conn, order_id)
    if order.payment_state == PaymentState.CAPTURED or order.status == OrderStatus.CANCELLED:
        return
    cur = order.currency
    if refunded_minor:
        order.refunded_minor += refunded_minor
        events.record(conn, order, EventType.PAYMENT_REFUNDED, now,
                      f"refunded {Money(refunded_minor, cur)} of the UPI payment {capture_id}: "
                      "units short or a lower value packed")
    order.payment_state, order.capture_id = PaymentState.CAPTURED, capture_id
    order.captured_minor, order.updated_at = captured_minor, now
    order_repo.save(conn, order)
    events.record(conn, order, EventType.PAYMENT_CAPTURED, now,
                  f"captured {Money(captured_minor, cur)} ({capture_id})")


def record_carrier(session: Session, shipment_id: str, tracking_number: str, carrier: str,
                   service: str, now: datetime) -> None:
    """The carrier booked the parcel (a repeat keeps the first tracking number)."""
    repo.record_carrier(session.connection(), shipment_id, tracking_number, carrier, service, now)


def record_label(session: Session, shipment_id: str, pdf: bytes, zpl: str, now: datetime) -> None:
    """The verified label (PDF and ZPL) is kept for printing and reprinting."""
    repo.record_label(session.connection(), shipment_id, pdf, zpl, now)


def finish(session: Session, shipment_id: str, now: datetime) -> bool:
    """The shipment is packed; the order is PACKED once all its parcels are (Order_Packed)."""
    conn = session.connection()
    shipment = _shipment(conn, shipment_id)
    order = _lock_order(conn, shipment.order_id)
    if shipment.status != "packing" or order.status == OrderStatus.CANCELLED:
        return False
    repo.mark_packed(conn, shipment_id, now)
    rest = [s for s in repo.of_order(conn, order.order_id)
            if s.shipment_id != shipment_id and s.status in _LIVE
            and s.status not in ("packed", "shipped", "delivered")]  # earlier parcels may be gone
    cost = Money(shipment.carrier_cost_minor or 0, order.currency)
    detail = (f"{shipment_id} from {shipment.fc_id}: {shipment.weight_grams} g in box "
              f"{shipment.box or '(none)'}, {shipment.carrier} {shipment.tracking_number}, "
              f"carrier cost {cost}")
    order.updated_at = now
    if rest:
        order_repo.save(conn, order)
        events.record(conn, order, EventType.ORDER_PACKED, now,
                      f"{detail}; {count(len(rest), 'more parcel')} to pack")
        return False
    order.transition(OrderStatus.PACKED)
    order_repo.save(conn, order)
    events.record(conn, order, EventType.ORDER_PACKED, now, detail)
    return True


def cancel_after_failed_payment(session: Session, order_id: str, reason: str, refunded: bool,
                                detail: str, now: datetime, refunded_minor: int = 0) -> None:
    """The capture failed and the hold is voided (or the debit refunded): stock back, CANCELLED."""
    conn = session.connection()
    order = _lock_order(conn, order_id)
    if order.status == OrderStatus.CANCELLED:
        return
    # The events below record the status before the cancellation: the transition is last, and
    # when it is refused the whole transaction (and so every change above it) rolls back.
    order.payment_state = PaymentState.REFUNDED if refunded else PaymentState.VOIDED
    order.updated_at = now
    if refunded:
        # Money was taken (a capture, or the UPI debit) and all of it given back: say so.
        order.captured_minor = order.refunded_minor = refunded_minor
    events.record(conn, order, EventType.PAYMENT_REFUNDED if refunded
                  else EventType.PAYMENT_VOIDED, now, detail)
    units = inventory.release_soft_locks(conn, order_id)
    shipments.cancel_for_order(conn, order_id, now)
    order.inventory_state = InventoryState.RELEASED
    events.record(conn, order, EventType.INVENTORY_RELEASED, now,
                  f"released {count(units, 'locked unit')}, picked ones back to their bins")
    order.transition(OrderStatus.CANCELLED)
    order.cancel_reason, order.saga_due_at = reason, None
    order_repo.save(conn, order)
    events.record(conn, order, EventType.ORDER_CANCELLED, now, reason)


def claim_stuck(session: Session, idle_before: datetime | None, now: datetime,
                limit: int = 50) -> ClaimedPackings:
    """Shipments left "packing" (a crash, an unreachable party, a stopping replica), leased
    to this worker.

    idle_before None takes every one (SQLite: one process owns the file, so after a restart
    nothing else can be packing them). The lease is the shipment's updated_at.
    """
    ids, takeovers = repo.claim_packing(session.connection(), idle_before, now, limit)
    return ClaimedPackings(tuple(ids), takeovers)


def renew_leases(session: Session, shipment_ids: tuple[str, ...], now: datetime) -> int:
    """Renew the leases of the shipments a replica is packing (a step may outlast one)."""
    return repo.renew_packing(session.connection(), list(shipment_ids), now)


def release_leases(session: Session, shipment_ids: tuple[str, ...]) -> int:
    """Hand a stopping replica's packings back: claimable by any replica's next scan."""
    return repo.release_packing(session.connection(), list(shipment_ids))


def touch(session: Session, shipment_id: str, now: datetime) -> None:
    """Renew the lease on a shipment being packed (another step is about to start)."""
    repo.touch(session.connection(), shipment_id, now)


@dataclass(frozen=True, slots=True)
class StoredLabel:
    tracking_number: str
    pdf: bytes
    zpl: str


def first_label(session: Session, order_id: str) -> StoredLabel:
    """The label of the order's first shipment; NOT_FOUND until it is packed."""
    conn = session.connection()
    if order_repo.read(conn, order_id) is None:
        raise NotFound(f"no order {order_id[:64]!r}")
    for s in repo.of_order(conn, order_id):
        if s.label_pdf is not None and s.tracking_number:
            # A label stored before FCs had return addresses names a made-up sender.
            fc = routing_repo.fc(conn, s.fc_id)
            return_address(s.fc_id, fc.address if fc is not None else None)
            return StoredLabel(s.tracking_number, s.label_pdf, s.label_zpl or "")
    raise NotFound(f"order {order_id} has no label yet: labels are printed when it is packed")


def label_of(session: Session, shipment_id: str) -> StoredLabel | None:
    """The label stored on one shipment, if it has been printed."""
    s = repo.get(session.connection(), shipment_id)
    if s is None or s.label_pdf is None or not s.tracking_number:
        return None
    return StoredLabel(s.tracking_number, s.label_pdf, s.label_zpl or "")
