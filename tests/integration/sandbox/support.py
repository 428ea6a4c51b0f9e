"""Helpers of the sandbox tests: a webhook receiver and calls at the sandbox."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.adapters.gateway import (
    PaymentGateway,
)
from server.adapters.webhook_signing import verify

SECRET = b"whsec_integration_test"
APPROVES = "4242424242424242"

DECLINES = "4000000000000002"
FAILS_FIRST_ATTEMPT = "4000000000000119"


class WebhookReceiver:
    """A tiny stand-in for tote's webhook endpoint: records what arrives, can answer 503."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str | None, bytes]] = []
        self.refuse_next = 0
        self.refused = 0
        self.app = Starlette(routes=[Route("/webhooks", self._receive, methods=["POST"])])
        self.url = ""

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return Response(status_code=503)
        self.deliveries.append((request.headers.get("tote-signature"), body))
        return Response(status_code=204)

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[dict]:
        """Wait until count webhooks arrived; return them verified and parsed."""
        deadline = time.monotonic() + timeout_s
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, f"only {len(self.deliveries)}/{count} webhooks"
            await asyncio.sleep(0.01)
        return [self.verified(i) for i in range(len(self.deliveries))]

    def verified(self, index: int) -> dict:
        header, body = self.deliveries[index]
        verify(SECRET, header, body, now=time.time())
        return json.loads(body)


def _gateway(url: str, **overrides) -> PaymentGateway:
    settings = {
        "timeout_s": 2.0,
        "max_attempts": 4,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
    }
    return PaymentGateway(url, **{**settings, **overrides})


async def tokenize(http: httpx.AsyncClient, number: str) -> str:
    response = await http.post(
        "/v1/tokens", json={"number": number, "exp_month": 12, "exp_year": 2099, "cvc": "123"}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


async def ledger(http: httpx.AsyncClient, reference: str | None = None) -> list[dict]:
    params = {"reference": reference} if reference else {}
    return (await http.get("/v1/ledger", params=params)).json()["entries"]


async def arm(http: httpx.AsyncClient, **fault) -> None:
    response = await http.post("/v1/sandbox/faults", json=fault)
    assert response.status_code == 200, response.text


async def authorize(gateway: PaymentGateway, token: str, order_id: str, amount: int = 12_345):
    return await gateway.authorize(
        order_id=order_id, token=token, amount_minor=amount, currency="INR"
    )
