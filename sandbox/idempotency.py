"""Idempotency keys and injected request faults around every operation tote asks for."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .wire import SandboxError, encode, error_response, json_response, read_json

if TYPE_CHECKING:
    from .state import SandboxState

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Call:
    """What an operation gets: the sandbox state, the parsed body, path parameters, the key."""

    state: SandboxState
    body: dict[str, Any]
    path_params: dict[str, str]
    idempotency_key: str | None


Operation = Callable[[Call], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class _StoredAnswer:
    fingerprint: str
    status: int
    body: bytes


class IdempotencyStore:
    """Answers already given, per (route, Idempotency-Key)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], _StoredAnswer] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def run(
        self, route: str, key: str, fingerprint: str, execute: Callable[[], tuple[int, bytes]]
    ) -> tuple[int, bytes, bool]:
        """Execute once per (route, key); replay the stored answer after. Returns replayed too."""
        slot = (route, key)
        # One lock per key: concurrent requests with one key wait for the first to finish and
        # then replay its answer instead of performing the operation a second time.
        lock = self._locks.setdefault(slot, asyncio.Lock())
        async with lock:
            stored = self._answers.get(slot)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    error = SandboxError(
                        409,
                        "idempotency_key_reused",
                        f"{IDEMPOTENCY_HEADER} {key!r} was already used on route {route!r} with "
                        "a different request; use a new key for a new operation",
                    )
                    return error.http_status, encode(error.payload()), False
                return stored.status, stored.body, True
            status, body = execute()
            # A 5xx did nothing (or nothing the client may rely on): the retry must run again.
            if status < 500:
                self._answers[slot] = _StoredAnswer(fingerprint, status, body)
            return status, body, False


def _execute(operation: Operation, call: Call) -> tuple[int, bytes]:
    try:
        status, payload = operation(call)
    except SandboxError as error:
        return error.http_status, encode(error.payload())
    return status, encode(payload)


def _fingerprint(request: Request, body: dict[str, Any]) -> str:
    return hashlib.sha256(request.url.path.encode() + b"\n" + encode(body)).hexdigest()


async def guarded(
    request: Request, route: str, operation: Operation, *, idempotent: bool = True
) -> Response:
    """Run operation for request with injected faults and, when idempotent, key replay."""
    state: SandboxState = request.app.state.sandbox
    fault = state.faults.take_request_fault(route)
    if fault is not None and fault.kind == "http_500":
        return json_response(
            500, {"error": "injected_fault", "message": f"injected http_500 on {route}"}
        )
    if fault is not None and fault.kind == "timeout_before":
        # The request "never reached" the gateway: nothing happens, the answer comes too late.
        await asyncio.sleep(fault.delay_ms / 1000)
        return json_response(
            504, {"error": "injected_fault", "message": f"injected timeout_before on {route}"}
        )
    try:
        body = await read_json(request)
    except SandboxError as error:
        return error_response(error)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    call = Call(state, body, dict(request.path_params), key)
    replayed = False
    if idempotent:
        if not key:
            return error_response(
                SandboxError(
                    400, "idempotency_key_required", f"{IDEMPOTENCY_HEADER} header is required"
                )
            )
        status, raw, replayed = await state.idempotency.run(
            route, key, _fingerprint(request, body), lambda: _execute(operation, call)
        )
    else:
        status, raw = _execute(operation, call)
    if fault is not None and fault.kind == "timeout_after":
        # The operation happened, but the answer is late: the ambiguous case a client must
        # resolve by retrying with the same key.
        await asyncio.sleep(fault.delay_ms / 1000)
    headers = {REPLAYED_HEADER: "true"} if replayed else None
    return Response(raw, status_code=status, media_type="application/json", headers=headers)
