"""Settlement: the gateway pays captured card/UPI money out; reconciled COD is settled too.

A pass covers every capture due and every reconciled COD order: one replica at a time runs it,
the holder of the "settlement" worker lease (server/leases.py), so each capture is sent to the
gateway once per pass. (MarkSettled locks the orders and settles each once whatever happens;
the lease keeps a second replica from repeating the gateway calls.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from core.domain.errors import Unavailable
from core.domain.settlement_commands import MarkSettled, SettleReconciledCod
from core.persistence.models import utcnow
from core.service import settlement
from server.adapters.gateway import GatewayRejected, GatewayUnavailable, PaymentGateway
from server.dbexec import DbExecutor
from server.leases import WorkerLease

log = logging.getLogger(__name__)


class SettlementWorker:
    """Every `interval_s`: settle what is captured and shipped, and reconciled COD."""

    name = "settlement worker"

    def __init__(self, dbx: DbExecutor, gateway: PaymentGateway, interval_s: float,
                 lease: timedelta = timedelta(seconds=15)) -> None:
        self._dbx, self._gateway, self._interval_s = dbx, gateway, interval_s
        self._task: asyncio.Task[None] | None = None
        self.lease = WorkerLease(dbx, "settlement", lease)

    async def settle_once(self) -> list[str]:
        """One pass (while this replica holds the settlement lease); returns the orders
        settled."""
        done: list[str] = []
        if not self.lease.held:
            return done  # another replica settles this pass
        while self.lease.held and (batch := await self._dbx.read(settlement.due_batch)):
            settled = await self._settle(batch.batch_id, batch.capture_ids)
            if not settled:
                break
            done += await self._dbx.execute(MarkSettled(tuple(settled), batch.batch_id, utcnow()))
        if self.lease.held:
            done += await self._dbx.execute(SettleReconciledCod(utcnow()))
        return done

    async def _settle(self, batch_id: str, capture_ids: list[str]) -> list[str]:
        """The captures the gateway now holds as settled (empty: try again next pass)."""
        try:
            await self._gateway.settle(capture_ids=capture_ids, step=batch_id)
            return capture_ids
        except GatewayUnavailable as exc:
            log.warning("settlement %s must wait: %s", batch_id, exc)
            return []
        except GatewayRejected as exc:
            if exc.code != "already_settled" or len(capture_ids) == 1:
                if exc.code == "already_settled":
                    return capture_ids  # settled by an earlier pass that crashed before saving
                log.error("settlement %s refused: %s", batch_id, exc)
                return []
        # Part of the batch was settled by an earlier pass: settle the rest one by one.
        settled = []
        for capture_id in capture_ids:
            settled += await self._settle(f"{batch_id}-{capture_id}", [capture_id])
        return settled

    async def start(self) -> None:
        await self.lease.start()
        self._task = asyncio.create_task(self._forever(), name="settlement")

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
                await self.settle_once()
            except Unavailable as exc:  # the database away: the next pass tries again
                log.warning("settlement pass must wait: %s", exc.message)
            except Exception:  # a bad pass must not end settlement for good
                log.exception("settlement pass failed; next in %.0f s", self._interval_s)
