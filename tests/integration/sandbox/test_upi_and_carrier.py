"""UPI intents, the carrier and the sandbox's HTTP server, over loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import time

import httpx
import pytest

from sandbox import run_sandbox_forever
from server.adapters.carrier import CarrierClient, CarrierRejected
from tests.integration.sandbox.support import (
    SECRET,
    arm,
    ledger,
)


async def _webhooks_once_settled(http, timeout_s: float = 10) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The sandbox's webhook records, once none is still being delivered."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = (await http.get("/v1/sandbox/webhooks")).json()["webhooks"]
        if all(r["status"] != "pending" for r in records):
            return records
        assert time.monotonic() < deadline, f"webhooks still pending: {records}"
        await asyncio.sleep(0.01)


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
    # The sandbox calls the event delivered once every copy is answered: no fourth comes.
    [record] = await _webhooks_once_settled(http)
    assert (record["copies"], record["delivered"]) == (3, 3)
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
    # The next event, once there is a notify URL again, is the first to arrive.
    sandbox.set_notify_url(receiver.url)
    later = await register_intent(gateway, "ord-27")
    await http.post(f"/v1/upi/intents/{later}/approve")
    [event] = await receiver.wait_for(1)
    assert event["data"]["intent_id"] == later
    first, second = await _webhooks_once_settled(http)
    assert first["status"] == "no_notify_url" and second["status"] == "delivered"
    assert len(receiver.deliveries) == 1


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


async def test_small_responses_are_not_held_back_by_nagle(sandbox, http):
    # With Nagle on, each small response waits ~44 ms for the delayed ACK (bench/sandbox_http.py
    # measures it); what prevents that is TCP_NODELAY on every accepted connection.
    assert (await http.get("/healthz")).status_code == 200
    connections = sandbox._server._server.server_state.connections
    assert connections
    for connection in connections:
        sock = connection.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


async def test_latency_knob_delays_every_gateway_route(http):
    assert (await http.post("/v1/sandbox/latency", json={"ms": 2000})).status_code == 200
    try:
        held = asyncio.create_task(http.get("/v1/ledger"))
        # The controls are exempt: they answer while the ledger call is still held.
        for _ in range(3):
            assert (await http.get("/v1/sandbox/faults")).status_code == 200
        assert not held.done()
        assert (await held).status_code == 200
    finally:
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
