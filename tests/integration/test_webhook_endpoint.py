"""tote's webhook endpoint over real HTTP: what it refuses, with which status, and that a
refused delivery changes nothing (not even the event id: the same id, sent right, still works).

The rules: a body over 64 KiB → 413 (before it is read whole); a missing, malformed, stale or
wrong signature → 400 "bad_signature" (checked before the body is parsed); a signed body that
is not an event (bad JSON, not an object, no id/type/data, wrong field types, a value longer
than tote stores or out of range) → 400 "malformed" on both backends, never a database error;
an event type tote does not handle → 200 with "ignored" (so the sender does not resend it);
another method → 405; another path → 404.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from server.adapters.webhook_signing import SIGNATURE_HEADER, sign
from server.webhooks import MAX_BODY
from tests.harness import WEBHOOK_SECRET, unique, upi
from tests.integration.test_shipping import stored_event_types
from tote.v1 import common_pb2 as pb

SECRET = WEBHOOK_SECRET.encode()
PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


@pytest.fixture(scope="module")
def pending(tote, admin, shop) -> pb.Order:  # type: ignore[no-untyped-def]
    """A UPI order waiting for its customer: every refused webhook below names it."""
    sku = unique("JAM")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 2)
    placed = shop.place([(sku, 1)], upi())
    deadline = time.monotonic() + 30
    while shop.get(placed.order_id).payment.state != "intent_pending":
        assert time.monotonic() < deadline, "the intent was never registered"
        time.sleep(0.05)
    return placed


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def approval(order: pb.Order, event_id: str = "evt_refused_1", **data) -> dict:  # type: ignore[no-untyped-def,type-arg]
    base = {"intent_id": order.payment.upi_intent_id, "status": "approved",
            "reference": order.order_id, "payment_id": "pay_webhook_test",
            "amount_minor": order.total.amount_minor}
    base.update(data)
    return {"id": event_id, "type": "upi.intent.approved", "created": int(time.time()),
            "data": base}


def signed(body: bytes, at: int | None = None, secret: bytes = SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret, body, int(time.time()) if at is None else at),
            "content-type": "application/json"}


def unchanged(tote, shop, order: pb.Order) -> None:  # type: ignore[no-untyped-def]
    now = shop.get(order.order_id)
    assert (now.status, now.payment.state) == (pb.ORDER_STATUS_PENDING, "intent_pending")
    types = stored_event_types(tote, order.order_id)
    assert "Payment_Authorized" not in types and "Payment_Failed" not in types


def gateway(tote) -> str:  # type: ignore[no-untyped-def]
    return f"{tote.webhook_url}/webhooks/gateway"


# --- size ---------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413(tote, shop, pending, http):
    event = json.dumps(approval(pending)).encode()
    body = event + b" " * (MAX_BODY + 1 - len(event))
    r = http.post(gateway(tote), content=body, headers=signed(body))
    assert r.status_code == 413, r.text
    unchanged(tote, shop, pending)


def test_a_chunked_body_over_the_limit_is_413_without_a_content_length(tote, shop, pending, http):
    event = json.dumps(approval(pending)).encode()
    body = event + b" " * (4 * MAX_BODY)

    def chunks() -> Iterator[bytes]:  # (a generator: sent chunked, no Content-Length)
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    r = http.post(gateway(tote), content=chunks(), headers=signed(body))
    assert r.status_code == 413, r.text
    unchanged(tote, shop, pending)


def test_a_body_of_exactly_the_limit_is_read(tote, http):
    event = json.dumps({"id": unique("evt"), "type": "test.padding", "data": {}}).encode()
    body = event + b" " * (MAX_BODY - len(event))
    r = http.post(gateway(tote), content=body, headers=signed(body))
    assert r.status_code == 200, r.text
    assert r.json()["ignored"] == "test.padding"


# --- signature ----------------------------------------------------------------------------

BAD_SIGNATURES = {
    "missing": lambda body: {},
    "empty": lambda body: {SIGNATURE_HEADER: ""},
    "not a signature": lambda body: {SIGNATURE_HEADER: "garbage"},
    "wrong secret": lambda body: signed(body, secret=b"not-the-secret"),
    "ten minutes old": lambda body: signed(body, at=int(time.time()) - 600),
    "ten minutes ahead": lambda body: signed(body, at=int(time.time()) + 600),
    "of another body": lambda body: signed(body + b" "),
    "timestamp not a number": lambda body: {SIGNATURE_HEADER: "t=soon,v1=00"},
}


@pytest.mark.parametrize("case", BAD_SIGNATURES)
def test_a_bad_signature_is_400_and_changes_nothing(tote, shop, pending, http, case):
    body = json.dumps(approval(pending)).encode()
    r = http.post(gateway(tote), content=body, headers=BAD_SIGNATURES[case](body))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_signature" and r.json()["message"]
    unchanged(tote, shop, pending)


def test_a_bad_signature_is_refused_before_the_body_is_parsed(tote, http):
    r = http.post(gateway(tote), content=b"{not json", headers={SIGNATURE_HEADER: "garbage"})
    assert r.status_code == 400 and r.json()["error"] == "bad_signature"


# --- the body -----------------------------------------------------------------------------


def _malformed(pending: pb.Order) -> dict[str, bytes]:
    ok = approval(pending)
    return {
        "not JSON": b"{\"id\": \"evt_refused_1\", ",
        "not UTF-8": b"{\"id\": \"\xff\xfe\"}",
        "a JSON list": b"[1, 2, 3]",
        "a JSON string": b"\"upi.intent.approved\"",
        "no id": json.dumps({k: v for k, v in ok.items() if k != "id"}).encode(),
        "no type": json.dumps({k: v for k, v in ok.items() if k != "type"}).encode(),
        "no data": json.dumps({k: v for k, v in ok.items() if k != "data"}).encode(),
        "data is a string": json.dumps({**ok, "data": "approved"}).encode(),
        "data is null": json.dumps({**ok, "data": None}).encode(),
        "no reference": json.dumps(approval(pending, reference="")).encode(),
        "amount is text": json.dumps(approval(pending, amount_minor="lots")).encode(),
        "amount is a fraction": json.dumps(approval(pending, amount_minor=12.5)).encode(),
        "nested 20 000 deep": b"[" * 20_000 + b"]" * 20_000,
        # Over-long or out-of-range values: a 400 from the validator on both backends, never
        # a database error (PostgreSQL refuses what does not fit its column; SQLite keeps it).
        "id of 200 characters": json.dumps({**ok, "id": "e" * 200}).encode(),
        "id is a number": json.dumps({**ok, "id": 12345}).encode(),
        "id is empty": json.dumps({**ok, "id": ""}).encode(),
        "type of 100 characters": json.dumps({**ok, "type": "upi.intent." + "x" * 89}).encode(),
        "type is a list": json.dumps({**ok, "type": ["upi.intent.approved"]}).encode(),
        "amount past a BIGINT": json.dumps(approval(pending, amount_minor=2**64)).encode(),
        "amount negative": json.dumps(approval(pending, amount_minor=-1)).encode(),
        "amount is true": json.dumps(approval(pending, amount_minor=True)).encode(),
        "reference of 200 characters": json.dumps(approval(pending, reference="o" * 200)).encode(),
        "reference is a number": json.dumps(approval(pending, reference=7)).encode(),
        "payment id of 200 characters": json.dumps(
            approval(pending, payment_id="p" * 200)).encode(),
        "payment id is an object": json.dumps(approval(pending, payment_id={"id": 1})).encode(),
        "status of 100 characters": json.dumps(approval(pending, status="s" * 100)).encode(),
        # tote never stores a card number, whoever sends it.
        "payment id is a card number": json.dumps(
            approval(pending, payment_id="pay_4111-1111-1111-1111")).encode(),
    }


MALFORMED = list(_malformed(pb.Order()))


@pytest.mark.parametrize("case", MALFORMED)
def test_a_signed_body_that_is_not_an_event_is_400_and_changes_nothing(
        tote, shop, pending, http, case):
    body = _malformed(pending)[case]
    r = http.post(gateway(tote), content=body, headers=signed(body))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "malformed" and r.json()["message"]
    unchanged(tote, shop, pending)


NOW = int(time.time())


@pytest.mark.parametrize("events", [
    [{"status": "delivered", "location": "Indiranagar"}],            # no time
    [{"status": "delivered", "at": "yesterday"}],                     # not unix seconds
    "delivered",                                                      # not a list of scans
    [None],
    [{"status": "delivered", "at": NOW + 0.5}],                       # a fraction
    [{"status": "delivered", "at": 10**30}],                          # past any date
    [{"status": "d" * 100, "at": NOW}],                               # status too long
    [{"status": 7, "at": NOW}],                                       # status not text
    [{"status": "delivered", "location": ["x"], "at": NOW}],          # location not text
    [{"status": "in_transit", "at": NOW}] * 1001,                     # too many scans
])
def test_a_signed_carrier_event_with_bad_scans_is_400(tote, http, events):
    body = json.dumps({"id": unique("evt"), "type": "shipment.tracking_updated",
                       "data": {"tracking_number": "TT0000000001", "events": events}}).encode()
    r = http.post(f"{tote.webhook_url}/webhooks/carrier", content=body, headers=signed(body))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "malformed"


@pytest.mark.parametrize("data", [
    {"tracking_number": "T" * 200, "events": []},
    {"tracking_number": 12345, "events": []},
], ids=["tracking number of 200 characters", "tracking number is a number"])
@pytest.mark.parametrize("event_id", ["e" * 200, "evt_ok"], ids=["long id", "short id"])
def test_a_signed_carrier_event_with_bad_fields_is_400(tote, http, data, event_id):
    body = json.dumps({"id": event_id if event_id != "evt_ok" else unique("evt"),
                       "type": "shipment.tracking_updated", "data": data}).encode()
    r = http.post(f"{tote.webhook_url}/webhooks/carrier", content=body, headers=signed(body))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "malformed" and r.json()["message"]


def test_an_unknown_event_type_is_acknowledged_and_ignored(tote, shop, pending, http):
    body = json.dumps({**approval(pending, event_id="evt_refused_1"),
                       "type": "upi.mandate.created"}).encode()
    r = http.post(gateway(tote), content=body, headers=signed(body))
    assert r.status_code == 200, r.text
    assert r.json() == {"received": "evt_refused_1", "ignored": "upi.mandate.created"}
    unchanged(tote, shop, pending)


# --- method and path ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_another_method_is_405(tote, http, method):
    body = json.dumps({"id": unique("evt"), "type": "x", "data": {}}).encode()
    for path in ("/webhooks/gateway", "/webhooks/carrier"):
        r = http.request(method, f"{tote.webhook_url}{path}", content=body, headers=signed(body))
        assert r.status_code == 405, (path, r.status_code)


@pytest.mark.parametrize("path", ["/", "/webhooks", "/webhooks/gateway/x", "/webhooks/stripe",
                                  "/v1/upi/intents"])
def test_another_path_is_404(tote, http, path):
    body = json.dumps({"id": unique("evt"), "type": "x", "data": {}}).encode()
    r = http.post(f"{tote.webhook_url}{path}", content=body, headers=signed(body))
    assert r.status_code == 404, r.status_code


# --- and after all that -------------------------------------------------------------------


def test_the_refused_event_id_sent_right_is_applied_once(tote, shop, pending, http):
    # Every refusal above used evt_refused_1: none of them may have used it up.
    body = json.dumps(approval(pending, event_id="evt_refused_1")).encode()
    r = http.post(gateway(tote), content=body, headers=signed(body))
    assert r.status_code == 200 and r.json()["received"] == "evt_refused_1", r.text
    order = shop.wait_status(pending.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    assert order.payment.state == "authorized"
    types = [e.type for e in shop.events(pending.order_id, timeout_s=1)]
    assert types.count("Payment_Authorized") == 1
