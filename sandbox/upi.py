"""UPI collect intents: tote registers them, the customer approves or declines in their app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .idempotency import Call, guarded
from .wire import (
    SandboxError,
    error_response,
    json_response,
    require_amount,
    require_currency,
    require_int,
    require_str,
)

if TYPE_CHECKING:
    from .state import SandboxState

PENDING = "pending"
APPROVED = "approved"
DECLINED = "declined"
EXPIRED = "expired"
CANCELLED = "cancelled"


@dataclass
class UpiIntent:
    """A request to pay, waiting for the customer's answer until expires_at (unix seconds)."""

    intent_id: str
    vpa: str
    amount_minor: int
    currency: str
    reference: str
    expires_at: int
    status: str = PENDING
    payment_id: str | None = None

    def public(self) -> dict[str, Any]:
        """The intent as JSON (also the data of its webhooks)."""
        return {
            "intent_id": self.intent_id,
            "object": "upi_intent",
            "status": self.status,
            "vpa": self.vpa,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "reference": self.reference,
            "expires_at": self.expires_at,
            "payment_id": self.payment_id,
        }


class UpiRegistry:
    """Intents by id; a pending intent past its expiry reads as expired."""

    def __init__(self) -> None:
        self._intents: dict[str, UpiIntent] = {}

    def get(self, intent_id: str, now: float) -> UpiIntent:
        """The intent with its expiry applied; 404 when unknown."""
        intent = self._intents.get(intent_id)
        if intent is None:
            raise SandboxError(404, "not_found", f"no UPI intent {intent_id!r}")
        if intent.status == PENDING and now >= intent.expires_at:
            intent.status = EXPIRED
        return intent

    def register(self, body: dict[str, Any], now: float) -> UpiIntent:
        """Register an intent tote created; the same intent id twice must be the same intent."""
        intent = UpiIntent(
            intent_id=require_str(body, "intent_id"),
            vpa=require_str(body, "vpa"),
            amount_minor=require_amount(body),
            currency=require_currency(body),
            reference=require_str(body, "reference"),
            expires_at=require_int(body, "expires_at", minimum=0),
        )
        if "@" not in intent.vpa:
            raise SandboxError(400, "invalid_vpa", "'vpa' must look like name@bank")
        existing = self._intents.get(intent.intent_id)
        if existing is not None:
            same = (
                existing.vpa,
                existing.amount_minor,
                existing.currency,
                existing.reference,
                existing.expires_at,
            ) == (
                intent.vpa,
                intent.amount_minor,
                intent.currency,
                intent.reference,
                intent.expires_at,
            )
            if not same:
                raise SandboxError(
                    409, "intent_exists", f"UPI intent {intent.intent_id} exists with other terms"
                )
            return self.get(intent.intent_id, now)
        self._intents[intent.intent_id] = intent
        return self.get(intent.intent_id, now)


def _conflict(intent: UpiIntent, action: str) -> SandboxError:
    return SandboxError(
        409,
        f"intent_{intent.status}",
        f"cannot {action} UPI intent {intent.intent_id}: it is {intent.status}",
        status=intent.status,
        payment_id=intent.payment_id,
    )


def _register(call: Call) -> tuple[int, dict[str, Any]]:
    intent = call.state.upi.register(call.body, call.state.clock())
    return 200, intent.public()


def _get(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.state.upi.get(call.path_params["intent_id"], call.state.clock()).public()


def _cancel(call: Call) -> tuple[int, dict[str, Any]]:
    intent = call.state.upi.get(call.path_params["intent_id"], call.state.clock())
    if intent.status == APPROVED:
        # Money moved already: tote must refund payment_id instead.
        raise _conflict(intent, "cancel")
    if intent.status in (PENDING, EXPIRED):
        intent.status = CANCELLED
    # Cancelled stays cancelled; declined is already final with no money moved.
    return 200, intent.public()


def approve_intent(state: SandboxState, intent_id: str) -> UpiIntent:
    """The customer approves: debit at once (a capture), then notify tote."""
    intent = state.upi.get(intent_id, state.clock())
    if intent.status == APPROVED:
        return intent
    if intent.status != PENDING:
        raise _conflict(intent, "approve")
    capture = state.ledger.capture_upi(
        intent_id=intent.intent_id,
        amount_minor=intent.amount_minor,
        currency=intent.currency,
        reference=intent.reference,
    )
    intent.status = APPROVED
    intent.payment_id = capture.id
    state.notifier.emit("upi.intent.approved", intent.public(), route="upi_intent")
    return intent


def decline_intent(state: SandboxState, intent_id: str) -> UpiIntent:
    """The customer declines: nothing is debited; tote is notified."""
    intent = state.upi.get(intent_id, state.clock())
    if intent.status == DECLINED:
        return intent
    if intent.status != PENDING:
        raise _conflict(intent, "decline")
    intent.status = DECLINED
    state.notifier.emit("upi.intent.declined", intent.public(), route="upi_intent")
    return intent


async def register_intent(request: Request) -> Response:
    """POST /v1/upi/intents — tote registers an intent it generated."""
    return await guarded(request, "upi_intent", _register)


async def get_intent(request: Request) -> Response:
    """GET /v1/upi/intents/{intent_id} — tote's polling fallback."""
    return await guarded(request, "upi_get", _get, idempotent=False)


async def cancel_intent(request: Request) -> Response:
    """POST /v1/upi/intents/{intent_id}/cancel — tote withdraws an intent."""
    return await guarded(request, "upi_cancel", _cancel)


async def approve(request: Request) -> Response:
    """POST /v1/upi/intents/{intent_id}/approve — the customer's yes, from their UPI app."""
    try:
        intent = approve_intent(request.app.state.sandbox, request.path_params["intent_id"])
    except SandboxError as error:
        return error_response(error)
    return json_response(200, intent.public())


async def decline(request: Request) -> Response:
    """POST /v1/upi/intents/{intent_id}/decline — the customer's no, from their UPI app."""
    try:
        intent = decline_intent(request.app.state.sandbox, request.path_params["intent_id"])
    except SandboxError as error:
        return error_response(error)
    return json_response(200, intent.public())
