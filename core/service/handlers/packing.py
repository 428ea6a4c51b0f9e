"""Handlers of packing's commands: each one durable transition of core/service/packing.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core.domain.packing_commands import (
    BeginPacking,
    CancelAfterFailedCapture,
    ClaimedPackings,
    ClaimStuckPackings,
    FinishPacking,
    RecordCapture,
    RecordCarrierBooking,
    RecordLabel,
    ReleasePackingLeases,
    RenewPackingLeases,
    TouchShipment,
)
from core.service import packing
from core.service.deps import Deps


def begin(session: Session, cmd: BeginPacking, deps: Deps) -> str:
    rules = packing.PackingRules(cmd.tolerance_pct, cmd.tolerance_min_g)
    return packing.begin(session, cmd.order_id, cmd.shipment_id, cmd.weight_grams, cmd.box,
                         rules, cmd.fc_scope, cmd.now)


def touch(session: Session, cmd: TouchShipment, deps: Deps) -> None:
    packing.touch(session, cmd.shipment_id, cmd.now)


def record_capture(session: Session, cmd: RecordCapture, deps: Deps) -> None:
    packing.record_capture(session, cmd.order_id, cmd.capture_id, cmd.captured_minor,
                           cmd.refunded_minor, cmd.now)


def record_carrier(session: Session, cmd: RecordCarrierBooking, deps: Deps) -> None:
    packing.record_carrier(session, cmd.shipment_id, cmd.tracking_number, cmd.carrier,
                           cmd.service, cmd.now)


def record_label(session: Session, cmd: RecordLabel, deps: Deps) -> None:
    packing.record_label(session, cmd.shipment_id, cmd.pdf, cmd.zpl, cmd.now)


def finish(session: Session, cmd: FinishPacking, deps: Deps) -> bool:
    return packing.finish(session, cmd.shipment_id, cmd.now)


def cancel_after_failed_capture(session: Session, cmd: CancelAfterFailedCapture,
                                deps: Deps) -> None:
    packing.cancel_after_failed_payment(session, cmd.order_id, cmd.reason, cmd.refunded,
                                        cmd.detail, cmd.now, cmd.refunded_minor)


def claim_stuck(session: Session, cmd: ClaimStuckPackings, deps: Deps) -> ClaimedPackings:
    return packing.claim_stuck(session, cmd.idle_before, cmd.now)


def renew_leases(session: Session, cmd: RenewPackingLeases, deps: Deps) -> int:
    return packing.renew_leases(session, cmd.shipment_ids, cmd.now)


def release_leases(session: Session, cmd: ReleasePackingLeases, deps: Deps) -> int:
    return packing.release_leases(session, cmd.shipment_ids)


# (typed as the bus takes them: each handler takes its own command)
HANDLERS: dict[type[Any], Callable[[Session, Any, Deps], Any]] = {
    BeginPacking: begin,
    TouchShipment: touch,
    RecordCapture: record_capture,
    RecordCarrierBooking: record_carrier,
    RecordLabel: record_label,
    FinishPacking: finish,
    CancelAfterFailedCapture: cancel_after_failed_capture,
    ClaimStuckPackings: claim_stuck,
    RenewPackingLeases: renew_leases,
    ReleasePackingLeases: release_leases,
}
