"""Every write packing makes, as a command (handlers: core/service/handlers/packing.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.commands import Command


@dataclass(frozen=True, slots=True)
class BeginPacking(Command[str]):
    """Pass the weight gate and record the packing intent; answers the shipment id."""

    order_id: str
    shipment_id: str  # "" for the order's one live shipment
    weight_grams: int
    box: str
    tolerance_pct: int
    tolerance_min_g: int
    fc_scope: str | None  # a handheld of one FC packs only parcels leaving from there
    now: datetime


@dataclass(frozen=True, slots=True)
class TouchShipment(Command[None]):
    """Renew the lease on a shipment being packed (another outside call is about to start)."""

    shipment_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordCapture(Command[None]):
    """The final amount is taken (card capture, or a UPI debit less its refund)."""

    order_id: str
    capture_id: str
    captured_minor: int
    refunded_minor: int
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordCarrierBooking(Command[None]):
    """The carrier booked the parcel (a repeat keeps the first tracking number)."""

    shipment_id: str
    tracking_number: str
    carrier: str
    service: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordLabel(Command[None]):
    """The verified label, kept for printing and reprinting."""

    shipment_id: str
    pdf: bytes
    zpl: str
    now: datetime


@dataclass(frozen=True, slots=True)
class FinishPacking(Command[bool]):
    """The shipment is packed; True once the order is PACKED (all its parcels are)."""

    shipment_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class CancelAfterFailedCapture(Command[None]):
    """The capture failed and the hold is voided (or the debit refunded): CANCELLED."""

    order_id: str
    reason: str
    refunded: bool
    detail: str
    now: datetime
    refunded_minor: int = 0


@dataclass(frozen=True, slots=True)
class ClaimedPackings:
    """ClaimStuckPackings' answer: the shipments now leased to the claimer, and how many of
    them were another replica's lapsed lease (it died or stalled: a takeover)."""

    shipment_ids: tuple[str, ...]
    takeovers: int


@dataclass(frozen=True, slots=True)
class ClaimStuckPackings(Command[ClaimedPackings]):
    """Lease shipments left packing: idle since before idle_before or handed back by a stopping
    replica (idle_before None: every one, after a SQLite restart)."""

    idle_before: datetime | None
    now: datetime


@dataclass(frozen=True, slots=True)
class RenewPackingLeases(Command[int]):
    """Renew the leases of the shipments a replica is packing, so that a step waiting on the
    gateway or carrier longer than the lease is not run by another replica meanwhile; answers
    how many are still packing."""

    shipment_ids: tuple[str, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class ReleasePackingLeases(Command[int]):
    """Hand a stopping replica's packings back: another replica's scan claims them at once,
    not after the lease; answers how many."""

    shipment_ids: tuple[str, ...]
