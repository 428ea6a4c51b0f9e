"""Card payment routes: authorize, void, capture, refund, settle."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .idempotency import Call, guarded
from .wire import (
    SandboxError,
    new_id,
    optional_currency,
    require_amount,
    require_currency,
    require_str,
)


def _authorize(call: Call) -> tuple[int, dict[str, Any]]:
    token = require_str(call.body, "token")
    amount = require_amount(call.body)
    currency = require_currency(call.body)
    reference = require_str(call.body, "reference")
    card = call.state.cards.card(token)
    if call.state.cards.fails_this_attempt(card, call.idempotency_key):
        raise SandboxError(500, "processor_error", "the card processor failed; retry")
    declined = card.behaviour == "decline"
    auth = call.state.ledger.open_authorization(
        amount_minor=amount,
        currency=currency,
        reference=reference,
        last4=card.last4,
        brand=card.brand,
        declined=declined,
        key=call.idempotency_key,
    )
    if declined:
        return 402, {
            **auth.public(),
            "decline_code": "card_declined",
            "message": "The card was declined by its issuer.",
        }
    return 200, auth.public()


def _void(call: Call) -> tuple[int, dict[str, Any]]:
    auth = call.state.ledger.void(call.path_params["authorization_id"], call.idempotency_key)
    return 200, auth.public()


def _capture(call: Call) -> tuple[int, dict[str, Any]]:
    ledger = call.state.ledger
    auth = ledger.authorization(call.path_params["authorization_id"])
    amount = require_amount(call.body) if "amount_minor" in call.body else auth.amount_minor
    optional_currency(call.body, auth.currency)
    capture = ledger.capture(auth.id, amount, call.idempotency_key)
    return 200, capture.public()


def _refund(call: Call) -> tuple[int, dict[str, Any]]:
    ledger = call.state.ledger
    capture = ledger.capture_record(call.path_params["capture_id"])
    amount = (
        require_amount(call.body)
        if "amount_minor" in call.body
        else (capture.amount_minor - capture.refunded_minor)
    )
    optional_currency(call.body, capture.currency)
    refund_id, refunded = ledger.refund(capture.id, amount, call.idempotency_key)
    return 200, {
        "id": refund_id,
        "object": "refund",
        "status": "refunded",
        "amount_minor": refunded,
        "currency": capture.currency,
        "capture_id": capture.id,
        "reference": capture.reference,
    }


def _settle(call: Call) -> tuple[int, dict[str, Any]]:
    capture_ids = call.body.get("capture_ids")
    if (
        not isinstance(capture_ids, list)
        or not capture_ids
        or not all(isinstance(c, str) for c in capture_ids)
    ):
        raise SandboxError(400, "invalid_request", "'capture_ids' must be a non-empty list of ids")
    unique = list(dict.fromkeys(capture_ids))
    settled = call.state.ledger.settle(unique, call.idempotency_key)
    return 200, {
        "id": new_id("stl"),
        "object": "settlement",
        "status": "settled",
        "captures": settled,
    }


async def authorize(request: Request) -> Response:
    """POST /v1/authorizations — hold an amount on a tokenized card."""
    return await guarded(request, "authorize", _authorize)


async def void(request: Request) -> Response:
    """POST /v1/authorizations/{authorization_id}/void — release a hold."""
    return await guarded(request, "void", _void)


async def capture(request: Request) -> Response:
    """POST /v1/authorizations/{authorization_id}/capture — take (part of) the held amount."""
    return await guarded(request, "capture", _capture)


async def refund(request: Request) -> Response:
    """POST /v1/captures/{capture_id}/refund — give (part of) a capture back."""
    return await guarded(request, "refund", _refund)


async def settle(request: Request) -> Response:
    """POST /v1/settlements — pay captures out to the merchant."""
    return await guarded(request, "settle", _settle)
