"""Commands of shipping (hand-off, carrier tracking, COD remittances) and their handlers.

They live beside their handlers, not in core/domain: some answer with the order or the
remittance as the services store them, which the pure domain may not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.service import cod, orders, shipping
from core.service.cod import Remittance
from core.service.deps import Deps
from core.service.handlers import Handler
from core.service.orders import OrderSnapshot


@dataclass(frozen=True, slots=True)
class HandOff(Command[list[str]]):
    """The parcels on one manifest go to the carrier, all or none; answers the orders that
    became SHIPPED. `manifest_pdf` was rendered before the transaction."""

    carrier: str
    tracking_numbers: tuple[str, ...]
    manifest_id: str
    manifest_pdf: bytes | None
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordTrackingEvent(Command[OrderSnapshot]):
    """One carrier scan reported through the API, at `now`; answers the order after it.

    `cod_collected`: (amount minor, currency) the courier reports collecting, if any.
    """

    tracking_number: str
    status: str
    location: str
    cod_collected: tuple[int, str] | None
    now: datetime


@dataclass(frozen=True, slots=True)
class ApplyCarrierTracking(Command[bool]):
    """The carrier's view of a parcel (webhook or poll): each scan (status, location, time)
    once, oldest first; False when there is no parcel to apply it to."""

    tracking_number: str
    scans: tuple[tuple[str, str, datetime], ...]
    source: str  # "webhook" or "poll"
    webhook_event_id: str | None
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordCodRemittance(Command[Remittance]):
    """A carrier's transfer of collected cash for a set of parcels (a repeated reference
    changes nothing)."""

    carrier: str
    reference: str
    amount_minor: int
    currency: str
    tracking_numbers: tuple[str, ...]
    now: datetime


def hand_off(session: Session, cmd: HandOff, deps: Deps) -> list[str]:
    return shipping.hand_off(session, cmd.carrier, list(cmd.tracking_numbers), cmd.manifest_id,
                             cmd.manifest_pdf, cmd.now)


def record_tracking_event(session: Session, cmd: RecordTrackingEvent, deps: Deps,
                          ) -> OrderSnapshot:
    order_id = shipping.record_tracking_event(
        session, cmd.tracking_number, cmd.status, cmd.location, cmd.cod_collected, cmd.now,
        "rpc", cmd.now)
    session.flush()
    return orders.load(session, order_id)


def apply_carrier_tracking(session: Session, cmd: ApplyCarrierTracking, deps: Deps) -> bool:
    return shipping.apply_carrier_tracking(session, cmd.tracking_number, list(cmd.scans),
                                           cmd.source, cmd.webhook_event_id, cmd.now)


def record_cod_remittance(session: Session, cmd: RecordCodRemittance, deps: Deps,
                          ) -> Remittance:
    return cod.record_remittance(session, cmd.carrier, cmd.reference, cmd.amount_minor,
                                 cmd.currency, list(cmd.tracking_numbers), cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    HandOff: hand_off,
    RecordTrackingEvent: record_tracking_event,
    ApplyCarrierTracking: apply_carrier_tracking,
    RecordCodRemittance: record_cod_remittance,
}
