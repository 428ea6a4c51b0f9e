"""The sandbox gateway/carrier as a Starlette app, and running it on the current loop."""

from __future__ import annotations

import asyncio
import logging
import ssl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from server.http_serve import AsgiServer, serve_asgi

from . import cards, carrier, controls, payments, sms, upi
from .state import SandboxState

log = logging.getLogger(__name__)

_CONTROL_PREFIX = "/v1/sandbox/"


class _Latency:
    """Sleeps state.latency_ms before every route except the sandbox's own controls, and
    counts those routes' requests (state.requests, state.peak_in_flight)."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Controls are exempt so a test can always turn latency or faults off at once.
        if scope["type"] != "http" or scope["path"].startswith(_CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        state, key = self.state, f"{scope['method']} {scope['path']}"
        state.requests[key] += 1
        state.in_flight[key] += 1
        state.peak_in_flight[key] = max(state.peak_in_flight[key], state.in_flight[key])
        try:
            if state.latency_ms > 0:
                await asyncio.sleep(state.latency_ms / 1000)
            await self.app(scope, receive, send)
        finally:
            state.in_flight[key] -= 1


def create_sandbox_app(state: SandboxState) -> Starlette:
    """The sandbox's routes over state (the API.md "Sandbox HTTP routes" contract)."""
    routes = [
        Route("/healthz", controls.healthz, methods=["GET"]),
        Route("/v1/tokens", cards.create_token, methods=["POST"]),
        Route("/v1/authorizations", payments.authorize, methods=["POST"]),
        Route("/v1/authorizations/{authorization_id}", controls.get_authorization, methods=["GET"]),
        Route("/v1/authorizations/{authorization_id}/void", payments.void, methods=["POST"]),
        Route("/v1/authorizations/{authorization_id}/capture", payments.capture, methods=["POST"]),
        Route("/v1/captures/{capture_id}", controls.get_capture, methods=["GET"]),
        Route("/v1/captures/{capture_id}/refund", payments.refund, methods=["POST"]),
        Route("/v1/settlements", payments.settle, methods=["POST"]),
        Route("/v1/upi/intents", upi.register_intent, methods=["POST"]),
        Route("/v1/upi/intents/{intent_id}", upi.get_intent, methods=["GET"]),
        Route("/v1/upi/intents/{intent_id}/approve", upi.approve, methods=["POST"]),
        Route("/v1/upi/intents/{intent_id}/decline", upi.decline, methods=["POST"]),
        Route("/v1/upi/intents/{intent_id}/cancel", upi.cancel_intent, methods=["POST"]),
        Route("/v1/shipments", carrier.create_shipment, methods=["POST"]),
        Route("/v1/shipments/{tracking_number}", carrier.get_shipment, methods=["GET"]),
        Route(
            "/v1/shipments/{tracking_number}/advance", carrier.advance_shipment, methods=["POST"]
        ),
        Route("/v1/sms/messages", sms.send_sms, methods=["POST"]),
        Route("/v1/sms/messages", sms.list_sms, methods=["GET"]),
        Route("/v1/ledger", controls.ledger, methods=["GET"]),
        Route("/v1/sandbox/faults", controls.arm_fault, methods=["POST"]),
        Route("/v1/sandbox/faults", controls.list_faults, methods=["GET"]),
        Route("/v1/sandbox/faults", controls.clear_faults, methods=["DELETE"]),
        Route("/v1/sandbox/latency", controls.set_latency, methods=["POST"]),
        Route("/v1/sandbox/webhooks", controls.webhooks, methods=["GET"]),
        Route("/v1/sandbox/requests", controls.requests, methods=["GET"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(_Latency, state=state)])
    app.state.sandbox = state
    return app


class Sandbox:
    """A running sandbox: its URL, its state, where it sends webhooks, and `stop()`."""

    def __init__(self, server: AsgiServer, state: SandboxState) -> None:
        self._server = server
        self.state = state

    @property
    def url(self) -> str:
        """The base URL the adapters point at."""
        return self._server.url

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return self._server.port

    def set_notify_url(self, url: str | None, verify: ssl.SSLContext | bool = True) -> None:
        """Send future webhooks to url (None: send none; tote then polls)."""
        self.state.notifier.notify_url = url
        self.state.notifier.verify = verify

    async def stop(self) -> None:
        """Stop serving, then finish or cancel webhook deliveries still in flight."""
        await self._server.stop()
        await self.state.notifier.aclose()


async def start_sandbox(
    host: str,
    port: int,
    *,
    notify_url: str | None,
    webhook_secret: bytes,
    latency_ms: int = 0,
) -> Sandbox:
    """Start the sandbox on host:port (0: any free port) on the running loop."""
    state = SandboxState(
        notify_url=notify_url, webhook_secret=webhook_secret, latency_ms=latency_ms
    )
    server = await serve_asgi(create_sandbox_app(state), host, port)
    return Sandbox(server, state)


async def run_sandbox_forever(
    host: str,
    port: int,
    notify_url: str | None,
    webhook_secret: bytes,
    latency_ms: int = 0,
    notes: tuple[str, ...] = (),
) -> None:
    """Run the sandbox until cancelled (`tote sandbox`); prints its address (and notes) when
    ready."""
    sandbox = await start_sandbox(
        host, port, notify_url=notify_url, webhook_secret=webhook_secret, latency_ms=latency_ms
    )
    target = notify_url or "nowhere (tote polls)"
    print(f"sandbox listening on {sandbox.url}; webhooks to {target}", flush=True)
    for note in notes:
        print(note, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()
