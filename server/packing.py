"""Packing's worker: runs the packing saga (core/saga/packing.py) for PackOrder, and finishes
a packing a crash interrupted. The label is drawn here (labels/), for the saga's label step."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import labels
from core.domain.errors import FailedPrecondition, Unavailable
from core.domain.packing_commands import (
    ClaimStuckPackings,
    ReleasePackingLeases,
    RenewPackingLeases,
)
from core.domain.saga import Decision
from core.saga import runner
from core.saga.packing import SERVICE, packing_saga, ship_from_of
from core.service.packing import Progress
from core.service.ports import CarrierRejected, CarrierUnavailable, GatewayUnavailable
from server.adapters.carrier import CarrierClient
from server.adapters.gateway import PaymentGateway
from server.dbexec import DbExecutor, utcnow
from server.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["Packer", "PaymentNotTaken", "label_address", "ship_from_of"]


class PaymentNotTaken(Exception):
    """The final capture failed; the order was cancelled (reason attached)."""


class Packer:
    """Runs the remaining steps of packing one shipment; one run per shipment at a time."""

    def __init__(self, dbx: DbExecutor, gateway: PaymentGateway, carrier: CarrierClient,
                 settings: Settings) -> None:
        self._dbx = dbx
        self._settings = settings
        self._saga = packing_saga(dbx, gateway, carrier, _render)
        self._running: dict[str, asyncio.Task[str]] = {}
        self._worker: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._stopping = False
        self.takeovers = 0  # packings claimed after their lease lapsed (tote_lease_takeovers)
        # (worker, how many): told of each takeover (tote_lease_takeovers_total{worker}).
        self.on_takeover: Callable[[str, int], None] | None = None

    # -- one shipment -------------------------------------------------------------------------

    async def run(self, shipment_id: str) -> str:
        """Finish packing this shipment; returns its final status ("packed", "cancelled", …)."""
        task = self._running.get(shipment_id)
        if task is None:
            task = asyncio.create_task(self._run(shipment_id), name=f"pack-{shipment_id}")
            self._running[shipment_id] = task
            task.add_done_callback(lambda _t: self._running.pop(shipment_id, None))
        return await asyncio.shield(task)

    async def _run(self, shipment_id: str) -> str:
        p = await self._saga.load(shipment_id)
        if p is None or not self._saga.in_play(p):  # packed already, or cancelled
            return "" if p is None else p.shipment_status
        done = await runner.run(self._saga, shipment_id, p)
        if done.failure:
            raise PaymentNotTaken(done.failure)
        if done.decision == Decision.COMPLETE:
            return "packed"
        # Left packing by something else meanwhile (the order cancelled): say what it is now.
        now = await self._saga.load(shipment_id)
        return "" if now is None else now.shipment_status

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
        if not self._dbx.db.is_sqlite:  # (one process owns a SQLite file: no one to keep out)
            self._renewer = asyncio.create_task(self._renew_forever(), name="packing-leases")

    async def stop(self) -> None:
        """Stop the worker and the runs in flight; on PostgreSQL their packings are handed
        back, for another replica to finish at once (here: on the next start)."""
        self._stopping = True
        held = tuple(self._running)
        tasks = [t for t in (self._worker, self._renewer, *self._running.values())
                 if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if held and not self._dbx.db.is_sqlite:
            with contextlib.suppress(Exception):  # else they are taken after the lease
                await self._dbx.execute(ReleasePackingLeases(held))

    async def _renew_forever(self) -> None:
        """Keep the leases of the packings this replica runs: a step waits on the gateway or
        carrier (retries included) longer than the lease, and no other replica may take the
        shipment over meanwhile."""
        lease: timedelta = self._settings.orders.saga_lease
        while not self._stopping:
            await asyncio.sleep(lease.total_seconds() / 3)
            if self._running:
                try:
                    await self._dbx.execute(RenewPackingLeases(tuple(self._running), utcnow()))
                except Exception:
                    log.exception("renewing packing leases failed; retrying")

    async def _resume_forever(self) -> None:
        lease: timedelta = self._settings.orders.saga_lease
        # One process owns a SQLite file: whatever was packing before a restart is ours now.
        first = self._dbx.db.is_sqlite
        failing = False
        while not self._stopping:
            try:
                now = utcnow()
                claimed = await self._dbx.execute(
                    ClaimStuckPackings(None if first else now - lease, now))
                if claimed.takeovers:
                    # Packing's lease (updated_at) is renewed at every step and while one runs:
                    # one idle past the lease was left by a replica that died or stalled.
                    self.takeovers += claimed.takeovers
                    if self.on_takeover is not None:
                        self.on_takeover("packing", claimed.takeovers)
                    log.info("took over %d packing(s) from a replica whose lease expired",
                             claimed.takeovers)
                first = False
                for shipment_id in claimed.shipment_ids:
                    if shipment_id not in self._running:
                        asyncio.create_task(self._resume(shipment_id))
                failing = False
            except Unavailable as exc:  # once per outage, then quiet until it answers
                if not failing:
                    log.warning("packing worker scan must wait: %s", exc.message)
                failing = True
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


def label_address(a: dict[str, Any]) -> labels.Address:
    return labels.Address(name=a.get("name") or "", line1=a.get("line1") or "",
                          city=a.get("city") or "", postal_code=a.get("postal_code") or "",
                          country=a.get("country") or "", line2=a.get("line2") or "",
                          region=a.get("region") or "", phone=a.get("phone") or "")


def _render(p: Progress) -> tuple[bytes, str]:
    """The 4x6 label as a verified PDF and as ZPL (CPU work: the saga runs it in a thread)."""
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
