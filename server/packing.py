"""Packing's outside calls — the final capture, the carrier booking, the label — and the worker
that finishes a packing a crash interrupted.

The intent is committed first (core/service/packing.begin); then each call carries an
idempotency key from the order and the step and its result is recorded in its own write, so
repeating the remaining steps after a crash charges nothing twice and books one parcel.
No transaction is open while the gateway or the carrier is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import labels
from core.domain.errors import FailedPrecondition, Unavailable
from core.domain.money import Money
from core.domain.order import PaymentMethod
from core.service import packing as core
from core.service.catalog import return_address
from server.adapters.carrier import CarrierClient
from server.adapters.errors import (
    CarrierRejected,
    CarrierUnavailable,
    GatewayRejected,
    GatewayUnavailable,
)
from server.adapters.gateway import PaymentGateway
from server.dbexec import DbExecutor, utcnow
from server.settings import Settings

log = logging.getLogger(__name__)

# A capture whose outcome stays unknown after this many rounds of retries (each round is the
# adapter's own attempts with backoff) is treated as failed: the hold is voided instead.
CAPTURE_ROUNDS = 2
SERVICE = "ground"


class PaymentNotTaken(Exception):
    """The final capture failed; the order was cancelled (reason attached)."""


class Packer:
    """Runs the remaining steps of packing one shipment; one run per shipment at a time."""

    def __init__(self, dbx: DbExecutor, gateway: PaymentGateway, carrier: CarrierClient,
                 settings: Settings) -> None:
        self._dbx = dbx
        self._gateway = gateway
        self._carrier = carrier
        self._settings = settings
        self._running: dict[str, asyncio.Task[str]] = {}
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False

    # -- one shipment -------------------------------------------------------------------------

    def rules(self) -> core.PackingRules:
        f = self._settings.fulfillment
        return core.PackingRules(f.weight_tolerance_pct, f.weight_tolerance_min_g)

    async def run(self, shipment_id: str) -> str:
        """Finish packing this shipment; returns its final status ("packed", "cancelled", …)."""
        task = self._running.get(shipment_id)
        if task is None:
            task = asyncio.create_task(self._run(shipment_id), name=f"pack-{shipment_id}")
            self._running[shipment_id] = task
            task.add_done_callback(lambda _t: self._running.pop(shipment_id, None))
        return await asyncio.shield(task)

    async def _run(self, shipment_id: str) -> str:
        p = await self._dbx.read(core.progress, shipment_id)
        if p is None or p.shipment_status != "packing":
            return "" if p is None else p.shipment_status
        if not p.payment_done:
            await self._dbx.write(core.touch, shipment_id, utcnow())
            await self._take_payment(p)
        if p.tracking_number is None:
            await self._dbx.write(core.touch, shipment_id, utcnow())
            booked = await self._carrier.create_shipment(
                order_id=p.order_id, service=SERVICE, weight_grams=p.weight_grams,
                ship_to=p.ship_to, ship_from=ship_from_of(p), step=f"shipment-{shipment_id}")
            await self._dbx.write(core.record_carrier, shipment_id, booked.tracking_number,
                                  booked.carrier, booked.service, utcnow())
            p = await self._dbx.read(core.progress, shipment_id)
            assert p is not None
        if not p.has_label:
            pdf, zpl = await asyncio.to_thread(_render, p)
            await self._dbx.write(core.record_label, shipment_id, pdf, zpl, utcnow())
        await self._dbx.write(core.finish, shipment_id, utcnow())
        return "packed"

    async def _take_payment(self, p: core.Progress) -> None:
        """The final capture (card) or the refund of what is not shipped (UPI)."""
        assert p.authorization_id is not None
        amount = Money(p.final.capture_minor, p.currency)
        failure = ""
        for attempt in range(1, CAPTURE_ROUNDS + 1):
            try:
                if p.method == PaymentMethod.CARD:
                    cap = await self._gateway.capture(
                        order_id=p.order_id, authorization_id=p.authorization_id,
                        amount_minor=amount.amount_minor, currency=p.currency)
                    await self._dbx.write(core.record_capture, p.order_id, cap.capture_id,
                                          cap.amount_minor, 0, utcnow())
                    return
                # UPI was debited in full when approved: give back what is not shipped.
                if p.final.refund_minor > 0:
                    await self._gateway.refund(
                        order_id=p.order_id, capture_id=p.authorization_id,
                        amount_minor=p.final.refund_minor, currency=p.currency,
                        step="pack-refund")
                # Captured is what was debited; net of the refund it is the value shipped.
                await self._dbx.write(core.record_capture, p.order_id, p.authorization_id,
                                      amount.amount_minor + p.final.refund_minor,
                                      p.final.refund_minor, utcnow())
                return
            except GatewayRejected as exc:
                failure = f"the gateway refused the capture of {amount}: {exc}"
                break
            except GatewayUnavailable as exc:
                failure = f"the gateway gave no answer to the capture of {amount}: {exc}"
                log.warning("capture for %s, round %d/%d: %s", p.order_id, attempt,
                            CAPTURE_ROUNDS, exc)
        await self._compensate(p, failure)

    async def _compensate(self, p: core.Progress, failure: str) -> None:
        """Void the hold (card) or refund the debit (UPI), release every lock, CANCELLED."""
        assert p.authorization_id is not None
        total = Money(p.total_minor, p.currency)
        if p.method == PaymentMethod.CARD:
            try:
                await self._gateway.void(order_id=p.order_id, authorization_id=p.authorization_id,
                                         step="pack-void")
                refunded, detail = False, f"card hold {p.authorization_id} voided"
                given_back = 0
            except GatewayRejected:
                # The capture we could not confirm did happen: its stored answer names it.
                cap = await self._gateway.capture(
                    order_id=p.order_id, authorization_id=p.authorization_id,
                    amount_minor=p.final.capture_minor, currency=p.currency)
                await self._gateway.refund(order_id=p.order_id, capture_id=cap.capture_id,
                                           amount_minor=cap.amount_minor, currency=p.currency,
                                           step="pack-refund-all")
                refunded, detail = True, f"capture {cap.capture_id} refunded"
                given_back = cap.amount_minor
        else:
            await self._gateway.refund(order_id=p.order_id, capture_id=p.authorization_id,
                                       amount_minor=p.total_minor, currency=p.currency,
                                       step="pack-refund-all")
            refunded, detail = True, f"UPI payment {p.authorization_id} refunded ({total})"
            given_back = p.total_minor
        reason = f"payment capture failed at packing: {failure}"
        await self._dbx.write(core.cancel_after_failed_payment, p.order_id, reason, refunded,
                              detail, utcnow(), given_back)
        log.warning("order %s cancelled at packing: %s", p.order_id, failure)
        raise PaymentNotTaken(reason)

    async def pack(self, shipment_id: str) -> None:
        """Run the steps for PackOrder, turning outside trouble into answers for the packer."""
        try:
            status = await self.run(shipment_id)
        except PaymentNotTaken as exc:
            raise FailedPrecondition(f"{exc}; the order is cancelled and its stock released: "
                                     "put the items back") from None
        except (GatewayUnavailable, CarrierUnavailable) as exc:
            raise Unavailable(f"{exc}; the parcel stays at packing and is finished "
                              "automatically, or press pack again") from None
        except CarrierRejected as exc:
            raise FailedPrecondition(f"the carrier refused the parcel: {exc}") from None
        except labels.LabelError as exc:
            raise FailedPrecondition(f"the label cannot be printed: {exc}") from None
        if status == "cancelled":
            raise FailedPrecondition(f"shipment {shipment_id} was cancelled")

    # -- the resume worker --------------------------------------------------------------------

    async def start(self) -> None:
        """Resume packings a crash left behind, then keep looking for stuck ones."""
        self._worker = asyncio.create_task(self._resume_forever(), name="packing-worker")

    async def stop(self) -> None:
        """Stop the worker and the runs in flight (their state resumes on the next start)."""
        self._stopping = True
        tasks = [t for t in (self._worker, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _resume_forever(self) -> None:
        lease: timedelta = self._settings.orders.saga_lease
        # One process owns a SQLite file: whatever was packing before a restart is ours now.
        first = self._dbx.db.is_sqlite
        while not self._stopping:
            try:
                now = utcnow()
                ids = await self._dbx.write(core.claim_stuck, None if first else now - lease,
                                            now)
                first = False
                for shipment_id in ids:
                    if shipment_id not in self._running:
                        asyncio.create_task(self._resume(shipment_id))
            except Exception:
                log.exception("packing worker scan failed; retrying")
            await asyncio.sleep(max(self._settings.saga_scan_interval_s, 0.5))

    async def _resume(self, shipment_id: str) -> None:
        try:
            status = await self.run(shipment_id)
            log.info("resumed packing of %s: %s", shipment_id, status or "gone")
        except PaymentNotTaken as exc:
            log.warning("resumed packing of %s: %s", shipment_id, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("resumed packing of %s must wait: %s", shipment_id, exc)


def ship_from_of(p: core.Progress) -> dict[str, Any]:
    """The FC's return address, the label's sender; FAILED_PRECONDITION when it has none."""
    a = return_address(p.fc_id, p.ship_from or None)
    return {k: a.get(k) or "" for k in ("name", "line1", "line2", "city", "region",
                                        "postal_code", "country", "phone")}


def label_address(a: dict[str, Any]) -> labels.Address:
    return labels.Address(name=a.get("name") or "", line1=a.get("line1") or "",
                          city=a.get("city") or "", postal_code=a.get("postal_code") or "",
                          country=a.get("country") or "", line2=a.get("line2") or "",
                          region=a.get("region") or "", phone=a.get("phone") or "")


def _render(p: core.Progress) -> tuple[bytes, str]:
    """The 4x6 label as a verified PDF and as ZPL (CPU work: run it in a thread)."""
    assert p.tracking_number and p.carrier
    cod = labels.Money(p.cod_due_minor, p.currency) if p.cod_due_minor > 0 else None
    data = labels.LabelData(
        tracking_number=p.tracking_number, order_id=p.order_id, carrier=p.carrier,
        service=p.service or SERVICE, weight_grams=p.weight_grams,
        ship_from=label_address(ship_from_of(p)), ship_to=label_address(p.ship_to),
        ship_date=utcnow().date(), cod=cod,
        lines=tuple(labels.OrderLine(sku=sku, quantity=q) for sku, q in p.lines))
    spec = labels.spec_for("4x6")
    return labels.render_label(spec, data), labels.render_zpl(spec, data)
