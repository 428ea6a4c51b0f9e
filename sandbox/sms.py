"""The sandbox SMS provider: tote sends texts here; tests and the demo read what was sent."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .idempotency import Call, guarded
from .wire import SandboxError, json_response, require_str


class SmsOutbox:
    """Every text accepted, in order (what a phone would have received)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def accept(self, to: str, body: str, now: float) -> dict[str, Any]:
        if not (to.startswith("+") and to[1:].isdigit() and 8 <= len(to) - 1 <= 15):
            raise SandboxError(400, "invalid_request", "'to' must be an E.164 number")
        if not body or len(body) > 1600:
            raise SandboxError(400, "invalid_request", "'body' must be 1 to 1600 characters")
        message = {"id": "sms_" + secrets.token_hex(8), "to": to, "body": body,
                   "status": "sent", "at": now}
        self.sent.append(message)
        return message


def _send(call: Call) -> tuple[int, dict[str, Any]]:
    state = call.state
    return 201, state.sms.accept(require_str(call.body, "to"), require_str(call.body, "body"),
                                 state.clock())


async def send_sms(request: Request) -> Response:
    """POST /v1/sms/messages {to, body} — one text; the Idempotency-Key sends it once."""
    return await guarded(request, "sms", _send)


async def list_sms(request: Request) -> Response:
    """GET /v1/sms/messages[?to=+91…] — the texts sent, oldest first."""
    to = request.query_params.get("to")
    sent = request.app.state.sandbox.sms.sent
    return json_response(200, {"messages": [m for m in sent if to is None or m["to"] == to]})
