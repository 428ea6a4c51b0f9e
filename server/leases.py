"""A named worker lease kept by one replica: the worker whose work is a whole pass (tracking
polls, settlement) runs it only while this replica holds the lease.

The holder renews every third of the lease; a replica that dies (SIGKILL) stops renewing and
another takes the lease over once it lapses, within one lease. The holder stops counting on it
a little before it lapses by its own clock, so a holder whose renewals fail (the database
unreachable) stops working before anyone else can start. On SQLite one process owns the file:
the lease is always ours and nothing is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from core.domain.lease_commands import AcquireWorkerLease, ReleaseWorkerLease
from server.dbexec import DbExecutor, utcnow

log = logging.getLogger(__name__)

# This process, as a lease holder: readable in the table (host and pid), unique per start.
REPLICA_ID = f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(3)}"


class WorkerLease:
    """One worker kind's lease, kept in the background while the worker runs."""

    def __init__(self, dbx: DbExecutor, name: str, lease: timedelta, *,
                 holder: str = REPLICA_ID,
                 on_takeover: Callable[[str, int], None] | None = None) -> None:
        self._dbx, self.name, self._lease, self.holder = dbx, name, lease, holder
        # (worker, how many): the lead's tote_lease_takeovers_total{worker} hook.
        self.on_takeover = on_takeover
        self._shared = not dbx.db.is_sqlite
        self._held_until = 0.0  # time.monotonic() after which we no longer count on it
        self._task: asyncio.Task[None] | None = None
        self.takeovers = 0  # lapsed leases of other replicas this one took

    @property
    def held(self) -> bool:
        """Whether this replica may do the worker's work now."""
        return not self._shared or time.monotonic() < self._held_until

    async def start(self) -> None:
        if self._shared:
            await self._renew()
            self._task = asyncio.create_task(self._keep(), name=f"lease-{self.name}")

    async def stop(self) -> None:
        """Stop renewing and give the lease up, so another replica takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._shared and self._held_until > 0:
            self._held_until = 0.0
            with contextlib.suppress(Exception):
                await self._dbx.execute(ReleaseWorkerLease(self.name, self.holder, utcnow()))

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            await self._renew()

    async def _renew(self) -> None:
        asked = time.monotonic()
        try:
            grant = await self._dbx.execute(
                AcquireWorkerLease(self.name, self.holder, utcnow(), self._lease))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("renewing the %s lease failed; retrying", self.name)
            return
        if not grant.held:
            self._held_until = 0.0
            return
        # Counted from before we asked, less a margin for clocks: we stop first.
        self._held_until = asked + self._lease.total_seconds() * 0.9
        if grant.took_over_from is not None:
            self.takeovers += 1
            log.info("took over 1 %s lease from a replica whose lease expired (%s)",
                     self.name, grant.took_over_from)
            if self.on_takeover is not None:
                self.on_takeover(self.name, 1)
