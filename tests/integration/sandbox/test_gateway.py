"""The real gateway adapter against the real sandbox, over loopback HTTP: cards, keys, retries."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.applications import Starlette

from server.adapters.gateway import (
    GatewayRejected,
    GatewayUnavailable,
    idempotency_key,
)
from server.http_serve import serve_asgi
from tests.integration.sandbox.support import (
    APPROVES,
    DECLINES,
    FAILS_FIRST_ATTEMPT,
    _gateway,
    arm,
    authorize,
    ledger,
    tokenize,
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


async def test_a_late_answer_is_retried_with_the_same_key_and_charges_once(
        sandbox, http, caplog):
    token = await tokenize(http, APPROVES)
    await arm(http, route="authorize", kind="timeout_after", count=1, delay_ms=400)
    gateway = _gateway(sandbox.url, timeout_s=0.15)
    try:
        with caplog.at_level(logging.WARNING, logger="server.adapters"):
            auth = await authorize(gateway, token, "ord-9")
    finally:
        await gateway.aclose()
    # The first attempt really timed out (the adapter says so) and the fault was used up.
    [retry] = [r.getMessage() for r in caplog.records if r.name.startswith("server.adapters")]
    assert "attempt 1/4 failed" in retry and "Timeout" in retry, retry
    assert (await http.get("/v1/sandbox/faults")).json()["faults"] == []
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
    assert caught.value.status == 409 and "only ₹50.00 of capture" in caught.value.message
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
