"""JSON on the wire: encoding, the sandbox's error answer, and checks of request fields."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from core.domain.cards import contains_card_number

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class SandboxError(Exception):
    """A definite answer other than success: HTTP status, machine code, human message."""

    def __init__(self, http_status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        """The JSON body of this error."""
        return {"error": self.code, "message": self.message, **self.extra}


def new_id(prefix: str) -> str:
    """A random object id such as ``auth_3f9c…`` (the prefix says what kind of object).

    About one random hex id in 5 000 holds a run of digits that reads as a card number (13 to
    19 digits passing Luhn), and tote refuses any text that does — a card token among them — so
    such an id is drawn again, as a real gateway's ids never look like card numbers either.
    """
    while contains_card_number(candidate := f"{prefix}_{secrets.token_hex(10)}"):
        pass
    return candidate


def encode(payload: dict[str, Any]) -> bytes:
    """Serialize once; stored idempotent answers are replayed from these exact bytes."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def json_response(status: int, payload: dict[str, Any]) -> Response:
    """A JSON response with the given status."""
    return Response(encode(payload), status_code=status, media_type="application/json")


def error_response(error: SandboxError) -> Response:
    """The JSON answer for a SandboxError."""
    return json_response(error.http_status, error.payload())


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty); 400 when it is not one."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SandboxError(400, "invalid_json", f"request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise SandboxError(400, "invalid_json", "request body must be a JSON object")
    return body


def require_str(body: dict[str, Any], field: str) -> str:
    """A non-empty string field, else 400."""
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise SandboxError(400, "invalid_request", f"'{field}' must be a non-empty string")
    return value


def require_int(body: dict[str, Any], field: str, *, minimum: int | None = None) -> int:
    """An integer field (never a float or bool), at least minimum, else 400."""
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SandboxError(400, "invalid_request", f"'{field}' must be an integer")
    if minimum is not None and value < minimum:
        raise SandboxError(400, "invalid_request", f"'{field}' must be at least {minimum}")
    return value


def require_amount(body: dict[str, Any], field: str = "amount_minor") -> int:
    """A positive amount in minor units (money is never a float)."""
    return require_int(body, field, minimum=1)


def require_currency(body: dict[str, Any], field: str = "currency") -> str:
    """An ISO 4217 code such as ``INR`` or ``EUR``."""
    value = body.get(field)
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise SandboxError(400, "invalid_request", f"'{field}' must be an ISO 4217 code, e.g. INR")
    return value


def optional_currency(body: dict[str, Any], expected: str) -> None:
    """When the body names a currency it must be expected (the object's own), else 409."""
    if "currency" in body and body["currency"] != expected:
        raise SandboxError(
            409,
            "currency_mismatch",
            f"currency {body['currency']!r} differs from the original {expected!r}",
        )
