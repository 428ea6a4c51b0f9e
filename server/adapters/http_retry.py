"""JSON over HTTP with idempotency keys and bounded retries, shared by gateway and carrier."""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import stamina
from httpx_aiohttp import AiohttpTransport

from .errors import UpstreamRejected, UpstreamUnavailable

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"


def _remember_missing_sniffio() -> None:
    """Make httpcore's per-request `import sniffio` fail fast when sniffio is not installed.

    httpcore tries that import several times per request, and Python does not cache a failed
    import: each try walked sys.path again (~20 % of a gateway call's CPU). A None entry in
    sys.modules makes the import fail at once; httpcore then assumes asyncio, as before.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # None in sys.modules blocks the import


def idempotency_key(order_id: str, step: str) -> str:
    """The key of one outside call: the same order and step always give the same key."""
    return f"tote-{order_id}-{step}"


@dataclass(frozen=True)
class RetryPolicy:
    """Per-attempt timeout and the exponential backoff (with jitter) between attempts."""

    timeout_s: float = 5.0
    max_attempts: int = 4
    backoff_initial_s: float = 0.05
    backoff_max_s: float = 2.0


class _RetryableStatus(Exception):
    """5xx or 429: the server may or may not have acted; ask again with the same key."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


# TransportError includes timeouts. The aiohttp transport maps aiohttp's connection, timeout
# and payload errors to httpx's; any other aiohttp error (a response it cannot parse) leaves
# the outcome just as unknown.
_RETRYABLE = (httpx.TransportError, aiohttp.ClientError, _RetryableStatus)


def _retryable(exc: Exception) -> bool:
    return isinstance(exc, _RETRYABLE)


def _describe(exc: BaseException) -> str:
    # Class name plus httpx's short text; never the request body (tokens, addresses).
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Up to 64 calls at once: a slow gateway needs many in flight.
LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=8)


class _Transport(AiohttpTransport):
    """httpx-aiohttp 0.2 maps every aiohttp connection error to ConnectTimeout, a refused
    connection included: name that one ConnectError, as httpx itself does."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            cause = exc.__cause__
            if isinstance(cause, aiohttp.ClientConnectorError) and not isinstance(
                    cause, aiohttp.ServerTimeoutError):
                raise httpx.ConnectError(str(exc), request=request) from cause
            raise


def new_http_client() -> httpx.AsyncClient:
    """httpx over aiohttp's transport (httpx-aiohttp).

    httpx's own transport (httpcore on anyio) cost ~1.4 ms of CPU per gateway call on these
    machines, the largest part of a card saga's time on the event loop; aiohttp's connection
    pool and C HTTP parser under the same httpx API cost ~0.6 ms (bench/gateway_call.py).
    """
    return httpx.AsyncClient(transport=_Transport(limits=LIMITS))


class JsonHttpClient:
    """Base of the adapters: one `call()` that retries ambiguous failures with the same key."""

    unavailable_error: type[UpstreamUnavailable] = UpstreamUnavailable
    rejected_error: type[UpstreamRejected] = UpstreamRejected
    party = "upstream"

    def __init__(
        self,
        base_url: str,
        *,
        policy: RetryPolicy,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        _remember_missing_sniffio()
        self._base_url = base_url.rstrip("/")
        self._policy = policy
        self._own_client = client is None
        self._client = client if client is not None else new_http_client()

    async def aclose(self) -> None:
        """Close the HTTP client, unless it was shared with us."""
        if self._own_client:
            await self._client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        step: str,
        order_id: str | None = None,
        json: dict[str, Any] | None = None,
        key: str | None = None,
        accept: Collection[int] = (),
    ) -> tuple[int, dict[str, Any]]:
        """Send one request (retried as needed); return (status, JSON) of a 2xx or accepted one.

        Raises `unavailable_error` when retries run out, `rejected_error` for any other 4xx.
        """
        policy = self._policy
        headers = {IDEMPOTENCY_HEADER: key} if key else {}
        context = {"order_id": order_id, "step": step, "party": self.party}
        what = f"{self.party} {step}" + (f" for order {order_id}" if order_id else "")
        try:
            async for attempt in stamina.retry_context(
                on=_retryable,
                attempts=policy.max_attempts,
                timeout=None,
                wait_initial=policy.backoff_initial_s,
                wait_max=policy.backoff_max_s,
                wait_jitter=policy.backoff_initial_s,
            ):
                with attempt:
                    try:
                        response = await self._client.request(
                            method,
                            self._base_url + path,
                            json=json,
                            headers=headers,
                            timeout=policy.timeout_s,
                        )
                        if response.status_code >= 500 or response.status_code == 429:
                            raise _RetryableStatus(response.status_code)
                    except _RETRYABLE as exc:
                        if attempt.num < policy.max_attempts:
                            log.warning(
                                "%s: attempt %d/%d failed (%s); retrying with the same "
                                "idempotency key",
                                what,
                                attempt.num,
                                policy.max_attempts,
                                _describe(exc),
                                extra=context,
                            )
                        raise
        except _RETRYABLE as exc:
            log.warning(
                "%s: giving up after %d attempts (%s); outcome unknown",
                what,
                policy.max_attempts,
                _describe(exc),
                extra=context,
            )
            raise self.unavailable_error(
                f"{what}: no definite answer after {policy.max_attempts} attempts "
                f"({_describe(exc)})",
                order_id=order_id,
                step=step,
            ) from exc
        return self._interpret(response, what, accept, order_id=order_id, step=step)

    def _interpret(
        self,
        response: httpx.Response,
        what: str,
        accept: Collection[int],
        *,
        order_id: str | None,
        step: str,
    ) -> tuple[int, dict[str, Any]]:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if 200 <= status < 300:
                # It acted but we can't read what it did: as unknown as a timeout.
                raise self.unavailable_error(
                    f"{what}: HTTP {status} with a body that is not a JSON object",
                    order_id=order_id,
                    step=step,
                )
            body = {}
        if 200 <= status < 300 or status in accept:
            return status, body
        code = str(body.get("error") or body.get("decline_code") or f"http_{status}")
        message = str(body.get("message") or response.reason_phrase or "")
        raise self.rejected_error(status, code, message)
