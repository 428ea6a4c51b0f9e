"""The payment gateway adapter: card holds, captures, refunds, UPI intents, settlements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from .errors import GatewayRejected, GatewayUnavailable
from .http_retry import JsonHttpClient, RetryPolicy, idempotency_key

__all__ = [
    "Authorization",
    "Capture",
    "GatewayRejected",
    "GatewayUnavailable",
    "PaymentGateway",
    "Refund",
    "UpiIntent",
    "idempotency_key",
]


@dataclass(frozen=True)
class Authorization:
    """The gateway's definite answer to a hold: authorized (with an id) or declined."""

    status: Literal["authorized", "declined"]
    authorization_id: str | None
    decline_code: str | None
    message: str


@dataclass(frozen=True)
class Capture:
    """Money taken from an authorization."""

    capture_id: str
    amount_minor: int


@dataclass(frozen=True)
class Refund:
    """Money given back from a capture."""

    refund_id: str
    amount_minor: int


@dataclass(frozen=True)
class UpiIntent:
    """A UPI intent as the gateway sees it; payment_id is the capture once approved."""

    intent_id: str
    status: str  # pending | approved | declined | expired | cancelled
    payment_id: str | None
    amount_minor: int = 0
    currency: str = ""
    reference: str = ""


class PaymentGateway(JsonHttpClient):
    """The gateway over HTTP; every call carries the order id and an order+step idempotency key."""

    unavailable_error = GatewayUnavailable
    rejected_error = GatewayRejected
    party = "gateway"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        max_attempts: int = 4,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 2.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        policy = RetryPolicy(timeout_s, max_attempts, backoff_initial_s, backoff_max_s)
        super().__init__(base_url, policy=policy, client=client)

    async def authorize(
        self,
        *,
        order_id: str,
        token: str,
        amount_minor: int,
        currency: str,
        step: str = "authorize",
    ) -> Authorization:
        """Hold amount on the card behind token; a decline is an answer, not an error."""
        status, body = await self.call(
            "POST",
            "/v1/authorizations",
            step=step,
            order_id=order_id,
            key=idempotency_key(order_id, step),
            json={
                "token": token,
                "amount_minor": amount_minor,
                "currency": currency,
                "reference": order_id,
            },
            accept=(402,),
        )
        if status == 402:
            return Authorization(
                status="declined",
                authorization_id=None,
                decline_code=str(body.get("decline_code") or "declined"),
                message=str(body.get("message") or "declined"),
            )
        return Authorization(
            status="authorized",
            authorization_id=str(body["id"]),
            decline_code=None,
            message=str(body.get("message") or "authorized"),
        )

    async def void(self, *, order_id: str, authorization_id: str, step: str = "void") -> None:
        """Release a hold (compensation); voiding twice is harmless."""
        await self.call(
            "POST",
            f"/v1/authorizations/{authorization_id}/void",
            step=step,
            order_id=order_id,
            key=idempotency_key(order_id, step),
            json={"reference": order_id},
        )

    async def capture(
        self,
        *,
        order_id: str,
        authorization_id: str,
        amount_minor: int,
        currency: str,
        step: str = "capture",
    ) -> Capture:
        """Capture up to the authorized amount; the rest of the hold is released."""
        _, body = await self.call(
            "POST",
            f"/v1/authorizations/{authorization_id}/capture",
            step=step,
            order_id=order_id,
            key=idempotency_key(order_id, step),
            json={"amount_minor": amount_minor, "currency": currency, "reference": order_id},
        )
        return Capture(capture_id=str(body["id"]), amount_minor=int(body["amount_minor"]))

    async def refund(
        self,
        *,
        order_id: str,
        capture_id: str,
        amount_minor: int,
        currency: str,
        step: str = "refund",
    ) -> Refund:
        """Refund part or all of a capture (a card capture or an approved UPI payment)."""
        _, body = await self.call(
            "POST",
            f"/v1/captures/{capture_id}/refund",
            step=step,
            order_id=order_id,
            key=idempotency_key(order_id, step),
            json={"amount_minor": amount_minor, "currency": currency, "reference": order_id},
        )
        return Refund(refund_id=str(body["id"]), amount_minor=int(body["amount_minor"]))

    async def create_upi_intent(
        self,
        *,
        order_id: str,
        intent_id: str,
        vpa: str,
        amount_minor: int,
        currency: str,
        expires_at: int,
        step: str = "upi-intent",
    ) -> None:
        """Register an intent tote generated (its id and upi:// link are tote's own)."""
        await self.call(
            "POST",
            "/v1/upi/intents",
            step=step,
            order_id=order_id,
            key=idempotency_key(order_id, step),
            json={
                "intent_id": intent_id,
                "vpa": vpa,
                "amount_minor": amount_minor,
                "currency": currency,
                "reference": order_id,
                "expires_at": expires_at,
            },
        )

    async def get_upi_intent(self, intent_id: str, *, order_id: str | None = None) -> UpiIntent:
        """Poll an intent's status (the fallback when no webhook arrives)."""
        _, body = await self.call(
            "GET", f"/v1/upi/intents/{intent_id}", step="upi-poll", order_id=order_id
        )
        return UpiIntent(
            intent_id=str(body["intent_id"]),
            status=str(body["status"]),
            payment_id=body.get("payment_id"),
            amount_minor=int(body.get("amount_minor") or 0),
            currency=str(body.get("currency") or ""),
            reference=str(body.get("reference") or ""),
        )

    async def cancel_upi_intent(
        self, *, order_id: str, intent_id: str, step: str = "upi-cancel"
    ) -> str:
        """Withdraw an intent; returns its final status ("approved" means: refund it instead)."""
        status, body = await self.call(
            "POST",
            f"/v1/upi/intents/{intent_id}/cancel",
            step=step,
            order_id=order_id,
            key=idempotency_key(order_id, step),
            json={"reference": order_id},
            accept=(409,),
        )
        if status == 409:
            # The customer approved before the cancel arrived: the only 409 that is an answer.
            if body.get("status") == "approved":
                return "approved"
            raise GatewayRejected(
                409, str(body.get("error") or "conflict"), str(body.get("message") or "")
            )
        return str(body["status"])

    async def settle(self, *, capture_ids: list[str], step: str) -> None:
        """Ask the gateway to pay these captures out; step names the batch (its key)."""
        await self.call(
            "POST",
            "/v1/settlements",
            step=step,
            key=f"tote-settlement-{step}",
            json={"capture_ids": list(capture_ids)},
        )
