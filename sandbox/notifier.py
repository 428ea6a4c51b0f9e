"""Signed webhooks to tote, delivered in the background with retries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import stamina

from server.adapters.webhook_signing import SIGNATURE_HEADER, sign

from .faults import DUPLICATE_DELIVERIES, FaultBook
from .wire import new_id

log = logging.getLogger(__name__)


class _ReceiverError(Exception):
    """The receiver answered 5xx: worth another attempt."""


def _retryable(exc: Exception) -> bool:
    return isinstance(exc, httpx.TransportError | _ReceiverError)


class Notifier:
    """Sends events to notify_url; without one, no webhook is sent (tote polls instead)."""

    def __init__(
        self,
        *,
        notify_url: str | None,
        secret: bytes,
        clock: Callable[[], float],
        faults: FaultBook,
        attempts: int = 5,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 2.0,
        timeout_s: float = 5.0,
    ) -> None:
        self.notify_url = notify_url
        self._secret = secret
        self._clock = clock
        self._faults = faults
        self._attempts = attempts
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        # What an https notify_url's certificate is checked against (True: the system's CAs).
        self.verify: ssl.SSLContext | bool = True
        self._tasks: set[asyncio.Task[None]] = set()
        # One record per event, for GET /v1/sandbox/webhooks and for tests.
        self.deliveries: list[dict[str, Any]] = []

    def emit(self, event_type: str, data: dict[str, Any], *, route: str) -> str:
        """Queue an event caused by an operation on route; returns the event id."""
        event_id = new_id("evt")
        event = {
            "id": event_id,
            "type": event_type,
            "created": int(self._clock()),
            "data": data,
        }
        record: dict[str, Any] = {
            "event_id": event_id,
            "type": event_type,
            "copies": 1,
            "attempts": 0,
            "delivered": 0,
            "status": "pending",
        }
        self.deliveries.append(record)
        url = self.notify_url
        if url is None:
            record["status"] = "no_notify_url"
            return event_id
        fault = self._faults.take_webhook_fault(route)
        if fault is not None and fault.kind == "drop_webhook":
            record["status"] = "dropped"
            return event_id
        if fault is not None and fault.kind == "duplicate_webhook":
            record["copies"] = DUPLICATE_DELIVERIES
        # Serialized once: the signature covers these exact bytes, every copy sends them.
        body = json.dumps(event, separators=(",", ":")).encode()
        task = asyncio.get_running_loop().create_task(self._deliver(url, body, record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return event_id

    async def _deliver(self, url: str, body: bytes, record: dict[str, Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, verify=self.verify)
        for _ in range(record["copies"]):
            try:
                status = await self._post_with_retries(url, body, record)
            except (httpx.TransportError, _ReceiverError) as exc:
                record["status"] = "failed"
                log.warning(
                    "webhook %s to %s failed after %d attempts: %s",
                    record["event_id"],
                    url,
                    record["attempts"],
                    exc,
                )
                return
            if status >= 400:
                # A 4xx is the receiver's final word (e.g. a bad signature): no retry.
                record["status"] = "refused"
                log.warning("webhook %s refused by %s with %d", record["event_id"], url, status)
                return
            record["delivered"] += 1
        record["status"] = "delivered"

    async def _post_with_retries(self, url: str, body: bytes, record: dict[str, Any]) -> int:
        assert self._client is not None
        async for attempt in stamina.retry_context(
            on=_retryable,
            attempts=self._attempts,
            timeout=None,
            wait_initial=self._backoff_initial_s,
            wait_max=self._backoff_max_s,
            wait_jitter=self._backoff_initial_s,
        ):
            with attempt:
                record["attempts"] += 1
                # Signed per attempt, like Stripe: a late retry still carries a fresh timestamp.
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(self._secret, body, int(self._clock())),
                }
                response = await self._client.post(url, content=body, headers=headers)
                record["last_status"] = response.status_code
                if response.status_code >= 500:
                    raise _ReceiverError(f"receiver answered {response.status_code}")
                return response.status_code
        raise AssertionError("unreachable: stamina re-raises the last error")

    async def aclose(self, timeout_s: float = 2.0) -> None:
        """Give pending deliveries up to timeout_s, then cancel them and close the client."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
