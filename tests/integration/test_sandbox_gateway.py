"""The real gateway/carrier adapters against the real sandbox, over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import signal
import time

import httpx
import pytest
import stamina
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.adapters.carrier import CarrierClient, CarrierRejected
from server.adapters.gateway import (
    GatewayRejected,
    GatewayUnavailable,
    PaymentGateway,
    idempotency_key,
)
from server.adapters.webhook_signing import verify
from server.http_serve import serve_asgi
from server.sandbox import run_sandbox_forever, start_sandbox

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


@pytest.fixture(autouse=True)
def _real_retries():
    # These tests are about retries: no global stamina test mode may cap the attempts.
    with stamina.set_testing(False):
        yield


@pytest.fixture
async def servers():
    rec = WebhookReceiver()
    receiver_server = await serve_asgi(rec.app, "127.0.0.1", 0)
    rec.url = f"{receiver_server.url}/webhooks"
    sb = await start_sandbox("127.0.0.1", 0, notify_url=rec.url, webhook_secret=SECRET)
    yield sb, rec
    # Each uvicorn stop takes ~0.2 s of polling; stopping both at once halves the teardown.
    await asyncio.gather(sb.stop(), receiver_server.stop())


@pytest.fixture
def sandbox(servers):
    return servers[0]


@pytest.fixture
def receiver(servers):
    return servers[1]


@pytest.fixture
async def http(sandbox):
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=5.0) as client:
        yield client


def _gateway(url: str, **overrides) -> PaymentGateway:
    settings = {
        "timeout_s": 2.0,
        "max_attempts": 4,
        "backoff_initial_s": 0.01,
        "backoff_max_s": 0.05,
    }
    return PaymentGateway(url, **{**settings, **overrides})


@pytest.fixture
async def gateway(sandbox):
    gw = _gateway(sandbox.url)
    yield gw
    await gw.aclose()


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


# --- cards ---------------------------------------------------------------------------------


async def test_approving_card_is_authorized_with_one_ledger_entry(gateway, http):
    auth = await authorize(gateway, await tokenize(http, APPROVES), "ord-1")
    assert auth.status == "authorized" and auth.authorization_id.startswith("auth_")
    [entry] = await ledger(http, "ord-1")
    assert entry["kind"] == "authorization" and entry["status"] == "authorized"
    assert entry["amount_minor"] == 12_345 and entry["currency"] == "INR"
    assert entry["authorization_id"] == auth.authorization_id
    assert entry["idempotency_key"] == idempotency_key("ord-1", "authorize")


async def test_declined_card_is_a_definite_decline_recorded_in_the_ledger(gateway, http):
    auth = await authorize(gateway, await tokenize(http, DECLINES), "ord-2")
    assert auth.status == "declined" and auth.authorization_id is None
    assert auth.decline_code == "card_declined" and auth.message
    [entry] = await ledger(http, "ord-2")
    assert (entry["kind"], entry["status"]) == ("authorization", "declined")


async def test_tokenization_refuses_a_number_that_fails_luhn_and_never_echoes_it(http):
    bad = await http.post(
        "/v1/tokens",
        json={"number": "4242424242424241", "exp_month": 1, "exp_year": 2099, "cvc": "1"},
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_number"
    good = await http.post(
        "/v1/tokens", json={"number": APPROVES, "exp_month": 1, "exp_year": 2099, "cvc": "123"}
    )
    assert good.json()["last4"] == "4242" and good.json()["brand"] == "visa"
    assert APPROVES not in good.text


async def test_an_unknown_token_is_rejected_not_retried(gateway, http):
    with pytest.raises(GatewayRejected) as caught:
        await authorize(gateway, "tok_never_issued", "ord-3")
    assert (caught.value.status, caught.value.code) == (400, "invalid_token")
    assert await ledger(http) == []


# --- idempotency ---------------------------------------------------------------------------


async def test_ten_requests_with_one_key_make_one_entry_and_identical_responses(sandbox, http):
    token = await tokenize(http, APPROVES)
    body = {"token": token, "amount_minor": 500, "currency": "EUR", "reference": "ord-4"}
    headers = {"Idempotency-Key": "tote-ord-4-authorize"}
    concurrent = await asyncio.gather(
        *(http.post("/v1/authorizations", json=body, headers=headers) for _ in range(5))
    )
    sequential = [
        await http.post("/v1/authorizations", json=body, headers=headers) for _ in range(5)
    ]
    answers = concurrent + sequential
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1  # byte-for-byte replay
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 9
    assert len(await ledger(http, "ord-4")) == 1


async def test_same_key_with_a_different_body_is_refused_with_409(gateway, http):
    token = await tokenize(http, APPROVES)
    await authorize(gateway, token, "ord-5", amount=1_000)
    with pytest.raises(GatewayRejected) as caught:
        await authorize(gateway, token, "ord-5", amount=2_000)
    assert (caught.value.status, caught.value.code) == (409, "idempotency_key_reused")
    assert len(await ledger(http, "ord-5")) == 1


async def test_a_tote_call_without_an_idempotency_key_is_refused(http):
    token = await tokenize(http, APPROVES)
    body = {"token": token, "amount_minor": 500, "currency": "EUR", "reference": "ord-6"}
    response = await http.post("/v1/authorizations", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "idempotency_key_required"


# --- retries -------------------------------------------------------------------------------


async def test_card_failing_its_first_attempt_is_retried_and_authorized_once(gateway, http, caplog):
    token = await tokenize(http, FAILS_FIRST_ATTEMPT)
    with caplog.at_level(logging.WARNING, logger="server.adapters"):
        auth = await authorize(gateway, token, "ord-7")
    assert auth.status == "authorized"
    [entry] = await ledger(http, "ord-7")
    assert entry["authorization_id"] == auth.authorization_id
    retries = [r for r in caplog.records if r.name.startswith("server.adapters")]
    assert len(retries) == 1
    assert "ord-7" in retries[0].getMessage() and "authorize" in retries[0].getMessage()
    assert token not in caplog.text


async def test_two_injected_500s_then_success(gateway, http):
    token = await tokenize(http, APPROVES)
    await arm(http, route="authorize", kind="http_500", count=2)
    auth = await authorize(gateway, token, "ord-8")
    assert auth.status == "authorized"
    assert len(await ledger(http, "ord-8")) == 1
    assert (await http.get("/v1/sandbox/faults")).json()["faults"] == []


async def test_a_late_answer_is_retried_with_the_same_key_and_charges_once(sandbox, http):
    token = await tokenize(http, APPROVES)
    await arm(http, route="authorize", kind="timeout_after", count=1, delay_ms=400)
    gateway = _gateway(sandbox.url, timeout_s=0.15)
    try:
        started = time.monotonic()
        auth = await authorize(gateway, token, "ord-9")
        assert time.monotonic() - started >= 0.15  # the first attempt really timed out
    finally:
        await gateway.aclose()
    [entry] = await ledger(http, "ord-9")
    assert entry["authorization_id"] == auth.authorization_id
    assert entry["idempotency_key"] == idempotency_key("ord-9", "authorize")


async def test_a_request_that_never_arrived_is_performed_by_the_retry(sandbox, http):
    token = await tokenize(http, APPROVES)
    await arm(http, route="*", kind="timeout_before", count=1, delay_ms=400)
    gateway = _gateway(sandbox.url, timeout_s=0.15)
    try:
        auth = await authorize(gateway, token, "ord-10")
    finally:
        await gateway.aclose()
    assert auth.status == "authorized"
    assert len(await ledger(http, "ord-10")) == 1


async def test_exhausted_retries_raise_gateway_unavailable_and_charge_nothing(gateway, http):
    token = await tokenize(http, APPROVES)
    await arm(http, route="authorize", kind="http_500", count=10)
    with pytest.raises(GatewayUnavailable) as caught:
        await authorize(gateway, token, "ord-11")
    assert (caught.value.order_id, caught.value.step) == ("ord-11", "authorize")
    assert [f["remaining"] for f in (await http.get("/v1/sandbox/faults")).json()["faults"]] == [6]
    assert await ledger(http, "ord-11") == []


async def test_an_unreachable_gateway_is_unavailable():
    server = await serve_asgi(Starlette(), "127.0.0.1", 0)
    url = server.url
    await server.stop()  # nothing listens on that port any more
    gateway = _gateway(url, max_attempts=2)
    try:
        with pytest.raises(GatewayUnavailable, match="ConnectError"):
            await gateway.void(order_id="ord-12", authorization_id="auth_x")
    finally:
        await gateway.aclose()


# --- void, capture, refund, settle ---------------------------------------------------------


async def test_capture_part_refund_part_and_refuse_to_refund_more_than_is_left(gateway, http):
    auth = await authorize(gateway, await tokenize(http, APPROVES), "ord-13", amount=10_000)
    capture = await gateway.capture(
        order_id="ord-13",
        authorization_id=auth.authorization_id,
        amount_minor=8_000,
        currency="INR",
    )
    assert capture.amount_minor == 8_000
    refund = await gateway.refund(
        order_id="ord-13", capture_id=capture.capture_id, amount_minor=3_000, currency="INR"
    )
    assert refund.refund_id.startswith("ref_") and refund.amount_minor == 3_000
    with pytest.raises(GatewayRejected) as caught:
        await gateway.refund(
            order_id="ord-13",
            capture_id=capture.capture_id,
            amount_minor=5_001,
            currency="INR",
            step="refund-2",
        )
    assert caught.value.status == 409 and "5000" in caught.value.message
    kinds = [(e["kind"], e["amount_minor"]) for e in await ledger(http, "ord-13")]
    assert kinds == [("authorization", 10_000), ("capture", 8_000), ("refund", 3_000)]


async def test_capturing_more_than_authorized_is_refused(gateway, http):
    auth = await authorize(gateway, await tokenize(http, APPROVES), "ord-14", amount=1_000)
    with pytest.raises(GatewayRejected) as caught:
        await gateway.capture(
            order_id="ord-14",
            authorization_id=auth.authorization_id,
            amount_minor=1_001,
            currency="INR",
        )
    assert (caught.value.status, caught.value.code) == (409, "amount_too_large")


async def test_a_voided_authorization_cannot_be_captured(gateway, http):
    auth = await authorize(gateway, await tokenize(http, APPROVES), "ord-15")
    await gateway.void(order_id="ord-15", authorization_id=auth.authorization_id)
    await gateway.void(order_id="ord-15", authorization_id=auth.authorization_id, step="void-2")
    with pytest.raises(GatewayRejected) as caught:
        await gateway.capture(
            order_id="ord-15",
            authorization_id=auth.authorization_id,
            amount_minor=1,
            currency="INR",
        )
    assert caught.value.status == 409 and "voided" in caught.value.message
    kinds = [e["kind"] for e in await ledger(http, "ord-15")]
    assert kinds == ["authorization", "void"]  # voiding twice released the hold once


async def test_settling_a_capture_records_it_once(gateway, http):
    auth = await authorize(gateway, await tokenize(http, APPROVES), "ord-16", amount=700)
    capture = await gateway.capture(
        order_id="ord-16",
        authorization_id=auth.authorization_id,
        amount_minor=700,
        currency="INR",
    )
    await gateway.settle(capture_ids=[capture.capture_id], step="batch-1")
    await gateway.settle(capture_ids=[capture.capture_id], step="batch-1")  # a retry
    with pytest.raises(GatewayRejected) as caught:
        await gateway.settle(capture_ids=[capture.capture_id], step="batch-2")
    assert caught.value.code == "already_settled"
    settlements = [e for e in await ledger(http, "ord-16") if e["kind"] == "settlement"]
    assert [(s["amount_minor"], s["status"]) for s in settlements] == [(700, "settled")]


# --- UPI -----------------------------------------------------------------------------------


async def register_intent(gateway, order_id: str, *, expires_in_s: int = 600) -> str:
    intent_id = f"upi_{order_id}"
    await gateway.create_upi_intent(
        order_id=order_id,
        intent_id=intent_id,
        vpa="asha@okbank",
        amount_minor=49_900,
        currency="INR",
        expires_at=int(time.time()) + expires_in_s,
    )
    return intent_id


async def test_an_approved_intent_debits_once_and_sends_a_signed_webhook(gateway, http, receiver):
    intent_id = await register_intent(gateway, "ord-20")
    assert (await gateway.get_upi_intent(intent_id)).status == "pending"
    assert (await http.post(f"/v1/upi/intents/{intent_id}/approve")).status_code == 200
    assert (await http.post(f"/v1/upi/intents/{intent_id}/approve")).status_code == 200  # no-op
    [event] = await receiver.wait_for(1)
    assert event["type"] == "upi.intent.approved" and event["id"].startswith("evt_")
    assert event["data"]["intent_id"] == intent_id and event["data"]["status"] == "approved"
    polled = await gateway.get_upi_intent(intent_id)
    assert polled.status == "approved" and polled.payment_id == event["data"]["payment_id"]
    [entry] = await ledger(http, "ord-20")
    assert (entry["kind"], entry["amount_minor"]) == ("capture", 49_900)
    assert entry["capture_id"] == polled.payment_id


async def test_a_declined_intent_debits_nothing_and_notifies(gateway, http, receiver):
    intent_id = await register_intent(gateway, "ord-21")
    assert (await http.post(f"/v1/upi/intents/{intent_id}/decline")).status_code == 200
    [event] = await receiver.wait_for(1)
    assert event["type"] == "upi.intent.declined"
    assert await ledger(http, "ord-21") == []
    assert (await http.post(f"/v1/upi/intents/{intent_id}/approve")).status_code == 409


async def test_duplicate_webhook_fault_delivers_one_event_three_times(gateway, http, receiver):
    await arm(http, route="*", kind="duplicate_webhook", count=1)
    intent_id = await register_intent(gateway, "ord-22")
    await http.post(f"/v1/upi/intents/{intent_id}/approve")
    events = await receiver.wait_for(3)
    assert len({e["id"] for e in events}) == 1
    await asyncio.sleep(0.1)
    assert len(receiver.deliveries) == 3


async def test_a_dropped_webhook_leaves_polling_as_the_way_to_learn(gateway, http, receiver):
    await arm(http, route="upi_intent", kind="drop_webhook", count=1)
    dropped = await register_intent(gateway, "ord-23")
    await http.post(f"/v1/upi/intents/{dropped}/approve")
    delivered = await register_intent(gateway, "ord-24")
    await http.post(f"/v1/upi/intents/{delivered}/approve")
    [event] = await receiver.wait_for(1)
    assert event["data"]["intent_id"] == delivered
    assert (await gateway.get_upi_intent(dropped)).status == "approved"


async def test_webhooks_are_retried_while_the_receiver_answers_5xx(gateway, http, receiver):
    receiver.refuse_next = 2
    intent_id = await register_intent(gateway, "ord-25")
    await http.post(f"/v1/upi/intents/{intent_id}/approve")
    [event] = await receiver.wait_for(1)
    assert receiver.refused == 2 and event["data"]["intent_id"] == intent_id


async def test_without_a_notify_url_no_webhook_is_sent(sandbox, gateway, http, receiver):
    sandbox.set_notify_url(None)
    intent_id = await register_intent(gateway, "ord-26")
    await http.post(f"/v1/upi/intents/{intent_id}/approve")
    await asyncio.sleep(0.1)
    assert receiver.deliveries == []
    [record] = (await http.get("/v1/sandbox/webhooks")).json()["webhooks"]
    assert record["status"] == "no_notify_url"


async def test_cancelling_an_approved_intent_answers_approved_so_tote_refunds(gateway, http):
    intent_id = await register_intent(gateway, "ord-27")
    await http.post(f"/v1/upi/intents/{intent_id}/approve")
    assert await gateway.cancel_upi_intent(order_id="ord-27", intent_id=intent_id) == "approved"
    payment_id = (await gateway.get_upi_intent(intent_id)).payment_id
    refund = await gateway.refund(
        order_id="ord-27", capture_id=payment_id, amount_minor=49_900, currency="INR"
    )
    assert refund.amount_minor == 49_900
    assert [e["kind"] for e in await ledger(http, "ord-27")] == ["capture", "refund"]


async def test_a_cancelled_intent_can_no_longer_be_approved(gateway, http):
    intent_id = await register_intent(gateway, "ord-28")
    assert await gateway.cancel_upi_intent(order_id="ord-28", intent_id=intent_id) == "cancelled"
    answer = await http.post(f"/v1/upi/intents/{intent_id}/approve")
    assert answer.status_code == 409 and answer.json()["status"] == "cancelled"
    assert (await http.post("/v1/upi/intents/upi_unknown/approve")).status_code == 404


async def test_an_intent_past_its_expiry_is_expired_and_cannot_be_approved(gateway, http):
    intent_id = await register_intent(gateway, "ord-29", expires_in_s=-1)
    assert (await gateway.get_upi_intent(intent_id)).status == "expired"
    assert (await http.post(f"/v1/upi/intents/{intent_id}/approve")).status_code == 409
    assert await gateway.cancel_upi_intent(order_id="ord-29", intent_id=intent_id) == "cancelled"
    assert await ledger(http, "ord-29") == []


# --- carrier -------------------------------------------------------------------------------


async def test_a_shipment_advances_to_delivered_notifying_each_step(sandbox, http, receiver):
    carrier = CarrierClient(sandbox.url, backoff_initial_s=0.01, backoff_max_s=0.05)
    address = {"name": "Asha", "line1": "1 MG Road", "city": "Pune", "country": "IN"}
    try:
        first = await carrier.create_shipment(
            order_id="ord-30",
            service="ground",
            weight_grams=1_200,
            ship_to=address,
            ship_from=address,
        )
        again = await carrier.create_shipment(
            order_id="ord-30",
            service="ground",
            weight_grams=1_200,
            ship_to=address,
            ship_from=address,
        )
        assert again == first and re.fullmatch(r"TT\d{10}", first.tracking_number)
        tracking = first.tracking_number
        for _ in range(3):
            assert (await http.post(f"/v1/shipments/{tracking}/advance")).status_code == 200
        assert (await http.post(f"/v1/shipments/{tracking}/advance")).status_code == 409
        events = await receiver.wait_for(3)
        assert {e["type"] for e in events} == {"shipment.tracking_updated"}
        assert sorted(e["data"]["status"] for e in events) == [
            "delivered",
            "in_transit",
            "out_for_delivery",
        ]
        polled = await carrier.get_shipment(tracking)
        assert polled.status == "delivered" and polled.reference == "ord-30"
        assert [e.status for e in polled.events] == [
            "created",
            "in_transit",
            "out_for_delivery",
            "delivered",
        ]
        with pytest.raises(CarrierRejected) as caught:
            await carrier.get_shipment("TT0000000000")
        assert caught.value.status == 404
    finally:
        await carrier.aclose()


# --- the HTTP server itself ----------------------------------------------------------------


async def test_small_responses_are_not_held_back_by_nagle(http):
    started = time.monotonic()
    for _ in range(20):
        assert (await http.get("/healthz")).status_code == 200
    # With Nagle on, each small response waits ~44 ms for the delayed ACK: 20 of them ≈ 0.9 s.
    assert time.monotonic() - started < 0.4


async def test_latency_knob_delays_every_gateway_route(http):
    assert (await http.post("/v1/sandbox/latency", json={"ms": 150})).status_code == 200
    started = time.monotonic()
    await http.get("/v1/ledger")
    assert time.monotonic() - started >= 0.15
    await http.post("/v1/sandbox/latency", json={"ms": 0})


async def test_tote_sandbox_prints_its_address_and_leaves_signals_to_tote(capsys):
    sigint_before = signal.getsignal(signal.SIGINT)
    task = asyncio.create_task(
        run_sandbox_forever("localhost", 0, None, SECRET, 0), name="tote sandbox"
    )
    try:
        deadline = time.monotonic() + 5
        printed = ""
        while "listening on" not in printed:
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.01)
            printed += capsys.readouterr().out
        url = re.search(r"listening on (http://\S+?);", printed).group(1)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/healthz")).json() == {"status": "ok"}
        assert signal.getsignal(signal.SIGINT) is sigint_before
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
