"""Carrier tracking into tote: signed webhooks, and polling for parcels no webhook told about.

Webhooks are applied by whichever replica receives them (each is applied once: its event id).
Polling is a pass over every parcel on its way: one replica at a time runs it, the holder of
the "tracking" worker lease (server/leases.py), so each parcel is polled once per pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from core.domain.errors import Unavailable
from core.persistence.models import utcnow
from core.service import shipping
from core.service.handlers.shipping import ApplyCarrierTracking
from server.adapters.carrier import CarrierClient, CarrierRejected, CarrierUnavailable
from server.dbexec import DbExecutor
from server.leases import WorkerLease

log = logging.getLogger(__name__)


def _scans(events: Any) -> tuple[tuple[str, str, datetime], ...]:
    try:
        return tuple((str(e["status"]), str(e.get("location") or ""),
                      datetime.fromtimestamp(int(e["at"]), UTC)) for e in events or ())
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        # (a webhook answers 400 for a ValueError; a poll logs it and asks again later)
        raise ValueError("tracking events must be a list of {status, location, at: unix "
                         f"seconds}} ({type(exc).__name__})") from None


class TrackingWorker:
    """Applies the carrier's tracking; polls shipped parcels every `interval_s`."""

    name = "tracking worker"

    def __init__(self, dbx: DbExecutor, carrier: CarrierClient, interval_s: float,
                 lease: timedelta = timedelta(seconds=15)) -> None:
        self._dbx, self._carrier, self._interval_s = dbx, carrier, interval_s
        self._task: asyncio.Task[None] | None = None
        self.lease = WorkerLease(dbx, "tracking", lease)

    async def apply_webhook(self, event_id: str, data: dict[str, Any]) -> bool:
        """A `shipment.tracking_updated` webhook (data: the carrier's shipment with its events)."""
        tracking_number = str(data.get("tracking_number") or "")
        if not tracking_number:
            raise ValueError("shipment.tracking_updated without a tracking_number")
        return await self._dbx.execute(ApplyCarrierTracking(
            tracking_number, _scans(data.get("events")), "webhook", event_id, utcnow()))

    async def poll_once(self) -> int:
        """Ask the carrier about every parcel still on its way (while this replica holds the
        tracking lease); returns how many were asked."""
        if not self.lease.held:
            return 0  # another replica polls this pass
        numbers = await self._dbx.read(shipping.due_for_polling)
        asked = 0
        for number in numbers:
            if not self.lease.held:  # lost it mid-pass (renewals failing): stop asking
                break
            asked += 1
            try:
                shipment = await self._carrier.get_shipment(number)
            except (CarrierUnavailable, CarrierRejected) as exc:
                log.warning("tracking poll for %s failed: %s", number, exc)
                continue
            scans = tuple((e.status, e.location, datetime.fromtimestamp(e.at, UTC))
                          for e in shipment.events)
            await self._dbx.execute(ApplyCarrierTracking(number, scans, "poll", None, utcnow()))
        return asked

    async def start(self) -> None:
        await self.lease.start()
        self._task = asyncio.create_task(self._forever(), name="tracking-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.lease.stop()

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.poll_once()
            except Unavailable as exc:  # the database away: the next pass tries again
                log.warning("tracking poll must wait: %s", exc.message)
            except Exception:  # a bad pass must not end polling for good
                log.exception("tracking poll failed; next pass in %.0f s", self._interval_s)
