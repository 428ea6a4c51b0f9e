"""Storefront webhooks out of tote: signing, and the worker that sends due deliveries.

(server/webhooks.py is the other direction: the gateway's and the carrier's webhooks in.)

Deliveries are rows (core/service/webhooks.py): the outbox's fan-out inserts them, this worker
claims the due ones (SKIP LOCKED on PostgreSQL, each claim a lease of CLAIM_LEASE: two replicas
never send the same attempt, and a replica that dies mid-send leaves its claims to the others
once they lapse), POSTs each (server/hook_http.py) and records the attempt, which decides the
next one by the retry schedule.

Signing follows Standard Webhooks (standardwebhooks.com): an endpoint's secret is 32 bytes,
shown as "whsec_" + base64; it is never stored but derived, HMAC-SHA256(the server's signing
key, endpoint id), so it exists only where the key is. Headers: webhook-id (the event id, the
same on every attempt: receivers de-duplicate by it), webhook-timestamp (this attempt's unix
seconds), webhook-signature "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from core.domain.errors import Unavailable
from core.domain.webhooks import AttemptOutcome
from core.persistence.repos.webhooks import DueDelivery
from core.service import webhooks
from core.service.handlers.webhooks import ClaimDueDeliveries, RecordAttempt
from server import hook_http
from server.dbexec import DbExecutor, utcnow

if TYPE_CHECKING:
    from server.metrics import Metrics

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(seconds=60)  # more than a request's total timeout and its recording
BATCH = 32


def endpoint_secret(signing_key: bytes, endpoint_id: str) -> bytes:
    """An endpoint's signing secret: HMAC-SHA256(the server's key, its id)."""
    return hmac.new(signing_key, endpoint_id.encode(), hashlib.sha256).digest()


def shown_secret(secret: bytes) -> str:
    """A secret as Standard Webhooks writes it: whsec_ + base64."""
    return "whsec_" + base64.b64encode(secret).decode()


def signed_headers(secret: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{signature}"}


class StorefrontHooks:
    """Sends due deliveries, `concurrency` at a time, looking for due ones every `interval_s`."""

    name = "storefront webhooks"

    def __init__(self, dbx: DbExecutor, signing_key: bytes, schedule: tuple[float, ...], *,
                 allow_private: bool = False, interval_s: float = 0.25, concurrency: int = 16,
                 metrics: Metrics | None = None) -> None:
        self._dbx, self._key, self._schedule = dbx, signing_key, schedule
        self._allow_private, self._interval_s = allow_private, interval_s
        self._slots = asyncio.Semaphore(concurrency)
        self._metrics = metrics
        self._client = hook_http.new_client()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for due deliveries now (after a commit that may have made some)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="storefront-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _forever(self) -> None:
        while True:
            try:
                sent = await self.send_due()
            except Unavailable as exc:
                log.warning("storefront webhooks must wait: %s", exc.message)
                sent = 0
            except Exception:  # a bad pass must not end the sending for good
                log.exception("storefront webhook pass failed; next in %.2f s",
                              self._interval_s)
                sent = 0
            if sent < BATCH:  # a full batch: more may be due at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._interval_s)
                self._wake.clear()

    async def send_due(self) -> int:
        """Claim what is due and send it; how many were claimed."""
        now = utcnow()
        due = await self._dbx.read(webhooks.next_due)
        if due is None or due > now:
            return 0
        claimed = await self._dbx.execute(ClaimDueDeliveries(now, CLAIM_LEASE, BATCH))
        await asyncio.gather(*(self._send(d) for d in claimed))
        return len(claimed)

    async def _send(self, d: DueDelivery) -> None:
        async with self._slots:
            attempted_at = utcnow()
            body = d.body.encode()
            headers = signed_headers(endpoint_secret(self._key, d.endpoint_id),
                                     str(d.event_id), int(time.time()), body)
            outcome = await hook_http.post(self._client, d.url, self._allow_private, body,
                                           headers)
        status = await self._dbx.execute(RecordAttempt(d.delivery_id, attempted_at, outcome,
                                                       self._schedule))
        if self._metrics is not None:
            self._metrics.webhook_attempted(_result(outcome), status or "deleted",
                                            outcome.latency_ms / 1000)
        if not outcome.delivered:
            log.info("webhook delivery %s (event %s) to endpoint %s failed: %s; now %s",
                     d.delivery_id, d.event_id, d.endpoint_id,
                     outcome.error or outcome.http_status, status)


def _result(outcome: AttemptOutcome) -> str:
    """A bounded label: 2xx, 3xx, 4xx, 5xx or error."""
    if not outcome.http_status:
        return "error"
    return f"{min(max(outcome.http_status // 100, 1), 5)}xx"
