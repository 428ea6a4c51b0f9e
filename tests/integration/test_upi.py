"""UPI: an intent URI at once; approval by signed webhook (or polling) moves the order on."""

import json
import time

import httpx

from server.adapters.webhook_signing import SIGNATURE_HEADER, sign
from tests.harness import WEBHOOK_SECRET, Client, ledger, unique, upi
from tote.v1 import common_pb2 as pb

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


def _approve(sandbox_url: str, intent_id: str, action: str = "approve") -> httpx.Response:
    """The customer answers in their UPI app (retried until tote has registered the intent)."""
    deadline = time.monotonic() + 10
    while True:
        r = httpx.post(f"{sandbox_url}/v1/upi/intents/{intent_id}/{action}")
        if r.status_code != 404 or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def _awaiting_approval(admin: Client, shop: Client, name: str) -> pb.Order:
    """A one-unit UPI order of a new product, its intent registered and awaiting the customer."""
    sku = unique(name)
    admin.product(sku)
    admin.receive("FC-BLR", sku, 3)
    placed = shop.place([(sku, 1)], upi())
    shop.wait_payment_state(placed.order_id, {"intent_pending"})
    return placed

def test_upi_order_is_pending_with_an_intent_uri_then_approval_makes_it_processing(
        tote, admin, shop):
    sku = unique("TEA")
    admin.product(sku, price_minor=25_000)
    admin.receive("FC-BLR", sku, 3)
    placed = shop.place([(sku, 1)], upi("ananya@okbank"))
    assert placed.status == pb.ORDER_STATUS_PENDING
    uri = placed.payment.upi_intent_uri
    assert uri.startswith("upi://pay?") and f"tr={placed.payment.upi_intent_id}" in uri
    assert "am=290.00" in uri and "cu=INR" in uri  # 250.00 + 40.00 shipping for 350 g
    assert _approve(tote.sandbox_url, placed.payment.upi_intent_id).status_code == 200
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    assert order.payment.state == "authorized"
    types = [e.type for e in shop.events(placed.order_id, timeout_s=1)]
    assert types.count("Payment_Authorized") == 1


def _wait_for(what: str, probe, timeout_s: float = 30):  # type: ignore[no-untyped-def]
    """Poll probe until it returns something truthy; the deadline only catches a hang."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def _webhooks(sandbox_url: str) -> list[dict]:  # type: ignore[type-arg]
    return httpx.get(f"{sandbox_url}/v1/sandbox/webhooks").json()["webhooks"]


def test_the_same_webhook_three_times_changes_the_state_once(tote, admin, shop):
    placed = _awaiting_approval(admin, shop, "RICE")
    armed = httpx.post(f"{tote.sandbox_url}/v1/sandbox/faults",
                       json={"route": "upi_intent", "kind": "duplicate_webhook", "count": 1})
    assert armed.status_code in (200, 201), armed.text
    faults = httpx.get(f"{tote.sandbox_url}/v1/sandbox/faults").json()["faults"]
    assert {"route": "upi_intent", "kind": "duplicate_webhook", "remaining": 1} in [
        {k: f[k] for k in ("route", "kind", "remaining")} for f in faults]
    sent_before = len(_webhooks(tote.sandbox_url))
    assert _approve(tote.sandbox_url, placed.payment.upi_intent_id).status_code == 200

    # The sandbox sent the approval three times and tote answered every copy...
    def approval_delivered() -> dict | None:  # type: ignore[type-arg]
        for record in _webhooks(tote.sandbox_url)[sent_before:]:
            if record["type"] == "upi.intent.approved" and record["status"] == "delivered":
                return record
        return None
    record = _wait_for("the approval's deliveries", approval_delivered)
    assert record["copies"] == 3 and record["delivered"] == 3, record
    # ...and said of two of them that it had already handled that event.
    ignored = f"webhook {record['event_id']} for {placed.order_id} already handled; ignored"
    _wait_for("tote to log both duplicates",
              lambda: sum(ignored in line for line in tote._pump.lines) == 2)

    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING
    types = [e.type for e in shop.events(placed.order_id, timeout_s=1)]
    assert types.count("Payment_Authorized") == 1
    assert types.count("Order_Ready_for_Fulfillment") == 1
    debits = [e for e in ledger(tote.sandbox_url, placed.order_id) if e["kind"] == "capture"]
    assert len(debits) == 1


def test_a_webhook_event_id_is_handled_once_and_a_new_id_is_not_taken_for_a_repeat(
        tote, admin, shop):
    placed = _awaiting_approval(admin, shop, "DAL")
    url = f"{tote.webhook_url}/webhooks/gateway"
    secret = WEBHOOK_SECRET.encode()

    def deliver(event_id: str) -> dict:  # type: ignore[type-arg]
        body = _event(placed.order_id, placed.payment.upi_intent_id, event_id)
        r = httpx.post(url, content=body,
                       headers={SIGNATURE_HEADER: sign(secret, body, int(time.time()))})
        assert r.status_code == 200, r.text
        return r.json()

    first = unique("evt_dedupe")
    assert deliver(first) == {"received": first}
    assert deliver(first) == {"received": first, "duplicate": True}
    assert deliver(first) == {"received": first, "duplicate": True}
    # The dedupe is by event id: another event saying the same thing is news to tote.
    other = unique("evt_dedupe")
    assert deliver(other) == {"received": other}
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.payment.state == "authorized"
    types = [e.type for e in shop.events(placed.order_id, timeout_s=1)]
    assert types.count("Payment_Authorized") == 1


def _event(order_id: str, intent_id: str, event_id: str) -> bytes:
    return json.dumps({"id": event_id, "type": "upi.intent.approved", "created": int(time.time()),
                       "data": {"intent_id": intent_id, "status": "approved",
                                "reference": order_id, "payment_id": "cap_forged",
                                "amount_minor": 1}}).encode()


def test_tampered_forged_and_stale_webhooks_are_rejected_and_change_nothing(tote, admin, shop):
    placed = _awaiting_approval(admin, shop, "OIL")
    url = f"{tote.webhook_url}/webhooks/gateway"
    secret = WEBHOOK_SECRET.encode()
    body = _event(placed.order_id, placed.payment.upi_intent_id, "evt_forged_1")
    now = int(time.time())

    tampered = body.replace(b'"amount_minor": 1', b'"amount_minor": 2')
    r = httpx.post(url, content=tampered, headers={SIGNATURE_HEADER: sign(secret, body, now)})
    assert r.status_code == 400 and "signature" in r.json()["message"]

    r = httpx.post(url, content=body, headers={SIGNATURE_HEADER: sign(b"wrong", body, now)})
    assert r.status_code == 400

    old = now - 600
    r = httpx.post(url, content=body, headers={SIGNATURE_HEADER: sign(secret, body, old)})
    assert r.status_code == 400 and "old" in r.json()["message"].lower()

    r = httpx.post(url, content=body)
    assert r.status_code == 400

    order = shop.get(placed.order_id)
    assert order.status == pb.ORDER_STATUS_PENDING
    assert order.payment.state == "intent_pending"
    assert [e.type for e in shop.events(placed.order_id, timeout_s=0.5)].count(
        "Payment_Authorized") == 0


def test_declined_upi_intent_cancels_and_releases_locks(tote, admin, shop):
    sku = unique("SOAP")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 2)
    placed = shop.place([(sku, 2)], upi())
    assert _approve(tote.sandbox_url, placed.payment.upi_intent_id, "decline").status_code == 200
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == CANCELLED
    assert "declined" in order.cancel_reason
    assert shop.stock(sku) == (2, 0, 2)
