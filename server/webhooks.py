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
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.adapters.webhook_signing import SIGNATURE_HEADER, WebhookSignatureError, verify
from server.saga import SagaRunner

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
_HANDLED = ("upi.intent.", "shipment.tracking_updated")


def create_webhook_app(
    secret: bytes, saga: SagaRunner, tolerance_s: int = 300,
    tracking: Callable[[str, dict[str, Any]], Awaitable[object]] | None = None,
) -> Starlette:
    async def gateway(request: Request) -> JSONResponse:
        body = await _body_within_limit(request)
        if body is None:
            return JSONResponse({"error": "body too large",
                                 "message": f"a webhook body is at most {MAX_BODY} bytes"},
                                status_code=413)
        try:
            verify(secret, request.headers.get(SIGNATURE_HEADER), body, now=time.time(),
                   tolerance_s=tolerance_s)
        except WebhookSignatureError as exc:
            log.warning("webhook rejected: %s", exc)
            return JSONResponse({"error": "bad_signature", "message": str(exc)},
                                status_code=400)
        try:
            event = json.loads(body)
            event_id, kind, data = str(event["id"]), str(event["type"]), dict(event["data"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return JSONResponse({"error": "malformed", "message": "expected id, type, data"},
                                status_code=400)
        wrong = _wrong_field(data) if kind.startswith(_HANDLED) else ""
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
    async for chunk in request.stream():  # a chunked body has no length to trust
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def _wrong_field(data: dict[str, Any]) -> str:
    """What is wrong with an event's data fields tote reads, or ''."""
    amount = data.get("amount_minor")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
        return f"data.amount_minor must be an integer (minor units), got {str(amount)[:32]!r}"
    for name in ("reference", "status", "payment_id", "tracking_number"):
        if data.get(name) is not None and not isinstance(data[name], str):
            return f"data.{name} must be a string"
    return ""
