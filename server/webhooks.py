"""tote's webhook endpoint: signed notifications from the payment gateway (and carrier).

The body is verified (HMAC-SHA256 over the raw bytes, timestamp within 300 s) before it is
parsed; each event id is recorded in the same transaction as the change it causes, so a
duplicate delivery changes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.domain.cards import contains_card_number
from server.adapters.webhook_signing import SIGNATURE_HEADER, WebhookSignatureError, verify
from server.saga import SagaRunner

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
_HANDLED = ("upi.intent.", "shipment.tracking_updated")
# The longest value of each field tote stores (its column's width): longer is a 400 here, not
# a database error (PostgreSQL refuses an over-long value; SQLite would keep it).
MAX_EVENT_ID, MAX_TYPE = 128, 64
# (only the fields tote reads: a field it ignores may be anything)
_UPI_TEXT = {"reference": 40, "status": 32, "payment_id": 64}
_TRACKING_TEXT = {"tracking_number": 64}
_MAX_SCAN_STATUS = 32
_MAX_SCANS = 1000  # (a location is a place name: kept to its first 256 characters, not refused)
_MAX_MINOR = 2**63 - 1  # a BIGINT


def create_webhook_app(
    secret: bytes, saga: SagaRunner, tolerance_s: int = 300,
    tracking: Callable[[str, dict[str, Any]], Awaitable[object]] | None = None,
) -> Starlette:
    async def gateway(request: Request) -> JSONResponse:
        body = await _body_within_limit(request)
        if body is None:
            # Connection: close, or uvicorn would go on reading (and dropping) the rest.
            return JSONResponse({"error": "body too large",
                                 "message": f"a webhook body is at most {MAX_BODY} bytes"},
                                status_code=413, headers={"connection": "close"})
        try:
            verify(secret, request.headers.get(SIGNATURE_HEADER), body, now=time.time(),
                   tolerance_s=tolerance_s)
        except WebhookSignatureError as exc:
            log.warning("webhook rejected: %s", exc)
            return JSONResponse({"error": "bad_signature", "message": str(exc)},
                                status_code=400)
        try:
            event = json.loads(body)
            event_id, kind, data = event["id"], event["type"], dict(event["data"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"error": "malformed", "message": "expected id, type, data"},
                                status_code=400)
        wrong = _wrong_envelope(event_id, kind)
        event_id, kind = str(event_id), str(kind)
        if not wrong and kind.startswith(_HANDLED):
            wrong = _wrong_field(kind, data)
        if wrong:
            return JSONResponse({"error": "malformed", "message": wrong}, status_code=400)
        if kind.startswith("upi.intent."):
            order_id = str(data.get("reference") or "")
            if not order_id:
                return JSONResponse({"error": "malformed", "message": "no reference"},
                                    status_code=400)
            fresh = await saga.record_intent(
                order_id, str(data.get("status") or kind.rsplit(".")[-1]), data.get("payment_id"),
                int(data.get("amount_minor") or 0), webhook_event_id=event_id)
            if not fresh:
                # Gateways resend; saying so lets an operator (and a test) see the dedupe work.
                log.info("webhook %s for %s already handled; ignored", event_id, order_id)
                return JSONResponse({"received": event_id, "duplicate": True})
            return JSONResponse({"received": event_id})
        if kind == "shipment.tracking_updated" and tracking is not None:
            try:
                await tracking(event_id, data)
            except ValueError as exc:
                return JSONResponse({"error": "malformed", "message": str(exc)},
                                    status_code=400)
            return JSONResponse({"received": event_id})
        # Anything else is acknowledged so it is not resent.
        return JSONResponse({"received": event_id, "ignored": kind})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/webhooks/gateway", gateway, methods=["POST"]),
        Route("/webhooks/carrier", gateway, methods=["POST"]),
        Route("/healthz", health),
    ])


async def _body_within_limit(request: Request) -> bytes | None:
    """The body, or None once it is over MAX_BODY (without reading the rest of it)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return None
    body = bytearray()
    try:
        async for chunk in request.stream():  # a chunked body has no length to trust
            body += chunk
            if len(body) > MAX_BODY:
                return None
    except ClientDisconnect:  # gone (or cut off by server/http_guard.py): nobody to answer
        return None
    return bytes(body)


def _wrong_envelope(event_id: object, kind: object) -> str:
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_EVENT_ID:
        return f"id must be a string of 1 to {MAX_EVENT_ID} characters"
    if not isinstance(kind, str) or not 0 < len(kind) <= MAX_TYPE:
        return f"type must be a string of 1 to {MAX_TYPE} characters"
    return ""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_field(kind: str, data: dict[str, Any]) -> str:
    """What is wrong with the data fields tote reads of an event it handles, or ''."""
    if not kind.startswith("upi.intent."):
        return _wrong_text(data, _TRACKING_TEXT) or _wrong_scans(data.get("events"))
    amount = data.get("amount_minor")
    if amount is not None and not (isinstance(amount, int) and _is_int(amount)
                                   and 0 <= amount <= _MAX_MINOR):
        return ("data.amount_minor must be a whole number of minor units from 0 to "
                f"{_MAX_MINOR}, got {str(amount)[:32]!r}")
    return _wrong_text(data, _UPI_TEXT)


def _wrong_text(data: dict[str, Any], limits: dict[str, int]) -> str:
    for name, longest in limits.items():
        value = data.get(name)
        if value is not None and not (isinstance(value, str) and len(value) <= longest):
            return f"data.{name} must be a string of at most {longest} characters"
        if value is not None and contains_card_number(value):
            return f"data.{name} looks like a card number; tote never stores one"
    return ""


def _wrong_scans(scans: object) -> str:
    if scans is None:
        return ""
    if not isinstance(scans, list) or len(scans) > _MAX_SCANS:
        return f"data.events must be a list of at most {_MAX_SCANS} scans"
    for i, scan in enumerate(scans):
        if not isinstance(scan, dict):
            return f"data.events[{i}] must be an object {{status, location, at}}"
        status, location, at = scan.get("status"), scan.get("location"), scan.get("at")
        if not (isinstance(status, str) and 0 < len(status) <= _MAX_SCAN_STATUS):
            return (f"data.events[{i}].status must be a string of 1 to {_MAX_SCAN_STATUS} "
                    "characters")
        if location is not None and not isinstance(location, str):
            return f"data.events[{i}].location must be a string"
        if not (isinstance(at, int) and _is_int(at) and 0 <= at < 10**11):
            return f"data.events[{i}].at must be unix seconds (a whole number)"
    return ""
