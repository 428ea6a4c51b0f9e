"""No card number is ever stored or logged, whatever field of whatever RPC a client puts it in
(tote issue 13), on SQLite and PostgreSQL; real phones, GTINs and uuid/ULID keys are taken; and
every string's length limit answers alike on both backends.

Over real gRPC against a live `tote serve`: every string field of every RPC (read from the
descriptors, as test_hostile_requests.py does, whose world and baseline requests this reuses)
gets the spellings the report found stored and a share of every network × separator × text
around × digit script; then the SQLite file and its -wal, every text column's rows (PostgreSQL:
through information_schema) and the server's log are searched for the numbers.
"""

from __future__ import annotations

import itertools
import json
import re
import time

import grpc
import httpx
import pytest
from google.protobuf.descriptor import FieldDescriptor as F
from google.protobuf.message import Message

from core.domain.cards import is_card_number
from core.service.shipping import WITHHELD
from server.adapters.webhook_signing import SIGNATURE_HEADER, sign
from server.fields import DEFAULT_LIMIT, PHONE, RULES
from tests.card_spellings import (
    REPORTED,
    seeded_gtins,
    seeded_phones,
    seeded_ulids,
    seeded_uuids,
    spellings,
)
from tests.dbsearch import (
    digits_of,
    fingerprint,
    found_in_bytes,
    found_in_rows,
    sqlite_files,
    text_values,
)
from tests.harness import WEBHOOK_SECRET, Client, ToteServer, address, cod, place_request
from tests.integration import test_hostile_requests as hostile
from tests.integration.test_hostile_requests import (
    Caller,
    World,
    _holder,
    baseline,
    leaf_paths,
    message_class,
    rpcs,
)
from tote.v1 import catalog_pb2, common_pb2, fulfillment_pb2, orders_pb2, shipping_pb2

pytestmark = pytest.mark.slow

# The sweep's things to name (an order being picked, a packed one, …), as a fixture here.
hostile_world = hostile.world

CARD_MESSAGE = "{} looks like a card number; send the gateway's token"
# The ~12,000 generated spellings are dealt out over the fields, and each field sends every
# STRIDE-th of its share (the detector's unit tests take all of them, everywhere alike).
STRIDE = 3


def good_request(desc, world: World) -> Message:  # type: ignore[no-untyped-def]
    """The sweep's baseline request, made one the server takes where it was not (so that a
    long value reaches the database and is not refused first for another field)."""
    base = baseline(desc, world)
    if desc.full_name == "tote.v1.RecordTrackingEventRequest":
        base.status = "in_transit"  # (the carrier's words are lower case)
    return base


def string_fields(world: World) -> list[tuple[str, object, tuple[F, ...], Message]]:
    """(rpc path, method, field path, baseline request) for every string field of every RPC."""
    out = []
    for path, method in rpcs():
        base = good_request(method.input_type, world)
        out += [(path, method, fields, base) for fields in leaf_paths(method.input_type)
                if fields[-1].type == F.TYPE_STRING]
    return out


def unindexed(details: str) -> str:
    """The message with a repeated field's index left out ("lines[0].sku" → "lines.sku"): the
    sweep names fields by their path in the descriptors."""
    return re.sub(r"\[\d+\]", "", details)


def with_value(base: Message, desc, fields, value: str, key: str) -> Message:  # type: ignore[no-untyped-def]
    msg = message_class(desc)()
    msg.CopyFrom(base)
    if "idempotency_key" in desc.fields_by_name:
        msg.idempotency_key = key
    holder = _holder(msg, fields)
    if fields[-1].is_repeated:
        getattr(holder, fields[-1].name)[:] = [value]
    else:
        setattr(holder, fields[-1].name, value)
    return msg


def test_a_card_number_in_any_field_of_any_rpc_is_refused_and_stored_or_logged_nowhere(
        tote: ToteServer, admin: Client, hostile_world: World) -> None:
    world = hostile_world
    generated = list(spellings())
    keys = (f"card-sweep-{i}" for i in itertools.count())
    caller = Caller(admin)
    expected: dict[tuple[str, str], tuple[str, str, str]] = {}
    sent_numbers: set[str] = set()
    sent_texts: set[str] = set()
    targets = string_fields(world)
    for i, (path, method, fields, base) in enumerate(targets):
        name = ".".join(f.name for f in fields)
        share = generated[i::len(targets)][::STRIDE]
        for number, spelled in [*share, *(("4242424242424242", t) for t in REPORTED)]:
            request = with_value(base, method.input_type, fields, spelled, next(keys))
            case = f"{name}={spelled!r}"
            caller.send(path, method, request.SerializeToString(), case)
            expected[(path, case)] = (name, fields[-1].full_name, spelled)
            sent_texts.add(spelled)
            sent_numbers.add(number)
    answers = caller.finish()
    assert len(targets) > 60 and len(answers) > 1000

    wrong = []
    card_answers = 0
    for a in answers:
        name, full_name, spelled = expected[(a.path, a.case)]
        rule = RULES.get(full_name)
        limit = rule.limit if rule else DEFAULT_LIMIT
        details = unindexed(a.details)
        if a.code != grpc.StatusCode.INVALID_ARGUMENT or not details.startswith(name + " "):
            wrong.append(f"{a.path} [{a.case}] → {a.code.name}: {a.details[:100]}")
        elif len(spelled) <= limit and not (rule and rule.kind == PHONE):
            if details != CARD_MESSAGE.format(name):
                wrong.append(f"{a.path} [{a.case}] → {a.details[:100]}")
            card_answers += 1
    assert wrong == [], f"{len(wrong)} of {len(answers)}:\n" + "\n".join(wrong[:40])
    assert card_answers > 1000

    # A Luhn-invalid look-alike is stored: the searches below would find a number that was.
    control = "4242424242424241"
    placed = admin.orders.PlaceOrder(place_request(
        [(world.sku, 1)], cod(), customer_id=f"cust-{control}"), metadata=admin.metadata)
    assert placed.customer_id.endswith(control)
    assert_nowhere(tote, sent_numbers, sent_texts, control)


def assert_nowhere(tote: ToteServer, numbers: set[str], texts: set[str], control: str) -> None:
    files = sqlite_files(tote.db_url)
    assert files or tote.db_url.startswith("postgresql"), "no SQLite file to search"
    for path in files:
        data = path.read_bytes()
        assert found_in_bytes(data, numbers) == [], path
        assert found_in_bytes(data, texts) == [], path
    assert any(control.encode() in p.read_bytes() for p in files) or not files
    assert found_in_rows(tote.db_url, numbers) == []
    assert found_in_rows(tote.db_url, [control]) != []
    log = tote.log_path.read_bytes()
    assert found_in_bytes(log, numbers) == [] and found_in_bytes(log, texts) == []
    assert [n for n in numbers if n in digits_of(log.decode(errors="replace"))] == []


# -- what must still be taken -----------------------------------------------------------------

def test_real_phones_gtins_and_uuid_or_ulid_keys_are_accepted(
        admin: Client, hostile_world: World) -> None:
    world = hostile_world
    # Keys whose digit runs pass a network's prefix and Luhn between letters: the ones a
    # detector without the opaque-id rule would refuse.
    tricky = [u for u in seeded_uuids(20_000)
              if any(is_card_number(u.hex[i:j]) for i in range(32) for j in range(i + 13, 33))]
    keys = [u.hex for u in tricky[:10]] + [str(u) for u in tricky[10:15]] + seeded_ulids(5)
    phones = ["+91 98450 12345", "+44 20 7946 0958", "+14155550123", "+4915112345678",
              "+378282246310005", *seeded_phones(5)]
    placed = []
    for key, phone in itertools.zip_longest(keys, phones, fillvalue=None):
        request = place_request([(world.sku, 1)], cod(), key=key,
                                ship_to=address(phone=phone or "+919800000001"))
        order = admin.orders.PlaceOrder(request, metadata=admin.metadata)
        assert order.idempotency_key == request.idempotency_key
        assert order.ship_to.phone == request.ship_to.phone
        placed.append(order.order_id)
    # GTINs, also those that pass Luhn with a card network's prefix (a GTIN-13 from 4…).
    gtins = [g for g in seeded_gtins(4_000) if len(g) == 13 and is_card_number(g)][:3] + \
        seeded_gtins(12)
    for i, gtin in enumerate(gtins):
        product = admin.catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
            product=common_pb2.Product(sku=f"{world.sku}-G{i}", name="gtin check", gtin=gtin,
                                       unit_price=common_pb2.Money(amount_minor=100,
                                                                   currency="INR"),
                                       weight_grams=10)), metadata=admin.metadata)
        assert product.gtin == gtin
    # A scan of a GTIN that passes Luhn is judged as a scan (a wrong item), not as a card.
    with pytest.raises(grpc.RpcError) as exc:
        admin.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
            task_id=world.task_id, barcode=gtins[0], scan_id="card-check-scan"),
            metadata=admin.metadata)
    assert "card number" not in (exc.value.details() or "")
    for order_id in placed:
        admin.orders.CancelOrder(orders_pb2.CancelOrderRequest(
            order_id=order_id, reason="card test cleanup"), metadata=admin.metadata)


# -- lengths ----------------------------------------------------------------------------------

def test_every_string_one_over_its_limit_is_refused_alike_on_both_backends(
        tote: ToteServer, admin: Client, hostile_world: World) -> None:
    """One over the limit: INVALID_ARGUMENT naming the field and the limit; at the limit:
    never UNKNOWN or INTERNAL (PostgreSQL refused a value longer than its column with a 500)."""
    world = hostile_world
    caller = Caller(admin)
    keys = (f"len-sweep-{i}" for i in itertools.count())
    limits: dict[tuple[str, str], tuple[str, int]] = {}
    for path, method, fields, base in string_fields(world):
        if True:
            name = ".".join(f.name for f in fields)
            rule = RULES.get(fields[-1].full_name)
            limit = rule.limit if rule else DEFAULT_LIMIT
            for n in (limit, limit + 1):
                case = f"{name} × {n}"
                request = with_value(base, method.input_type, fields, "x" * n, next(keys))
                caller.send(path, method, request.SerializeToString(), case)
                limits[(path, case)] = (name, limit)
    answers = caller.finish()
    wrong = []
    for a in answers:
        name, limit = limits[(a.path, a.case)]
        if a.code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL):
            wrong.append(f"{a.path} [{a.case}] → {a.code.name}: {a.details[:100]}")
        elif a.case.endswith(f"× {limit + 1}"):
            want = f"{name} is {limit + 1} characters long; at most {limit} are accepted"
            if a.code != grpc.StatusCode.INVALID_ARGUMENT or unindexed(a.details) != want:
                wrong.append(f"{a.path} [{a.case}] → {a.code.name}: {a.details[:100]}")
        elif "characters long" in a.details:
            wrong.append(f"{a.path} [{a.case}] at the limit → {a.details[:100]}")
    assert wrong == [], "\n".join(wrong)


def test_a_carrier_cannot_store_a_3_mb_tracking_location_on_either_backend(
        tote: ToteServer, admin: Client, carrier: Client, hostile_world: World) -> None:
    """(Last in the module: it hands the sweep's packed parcel off.) Before: SQLite kept 3 MB,
    PostgreSQL answered INTERNAL for anything over its 256-character column."""
    world = hostile_world
    admin.shipping.HandOff(shipping_pb2.HandOffRequest(
        carrier=world.carrier, tracking_numbers=[world.tracking_number]),
        metadata=admin.metadata)
    before = fingerprint(tote.db_url)
    for n in (3_000_000, 257, 201):
        with pytest.raises(grpc.RpcError) as exc:
            carrier.shipping.RecordTrackingEvent(shipping_pb2.RecordTrackingEventRequest(
                tracking_number=world.tracking_number, status="in_transit",
                location="y" * n), metadata=carrier.metadata, timeout=60)
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT, exc.value.details()
        assert exc.value.details() == f"location is {n} characters long; at most 200 are accepted"
    assert fingerprint(tote.db_url) == before
    carrier.shipping.RecordTrackingEvent(shipping_pb2.RecordTrackingEventRequest(
        tracking_number=world.tracking_number, status="in_transit", location="y" * 200),
        metadata=carrier.metadata)
    stored = [len(v) for where, v in text_values(tote.db_url)
              if where == "tracking_events.location" and v.startswith("y")]
    assert stored == [200]


def test_a_card_number_in_a_carriers_webhook_location_is_withheld_not_stored(
        tote: ToteServer, admin: Client, hostile_world: World) -> None:
    """A carrier's signed scan is applied (refusing it would lose the parcel's progress), but a
    location holding a card number is kept as a note that it was withheld."""
    pan = "4111.1111.1111.1111"
    body = json.dumps({"id": f"evt_{time.time_ns()}", "type": "shipment.tracking_updated",
                       "data": {"tracking_number": hostile_world.tracking_number, "events": [
                           {"status": "in_transit", "location": f"hub near {pan}",
                            "at": int(time.time())}]}}).encode()
    r = httpx.post(f"{tote.webhook_url}/webhooks/carrier", content=body, timeout=30,
                   headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET.encode(), body,
                                                   int(time.time())),
                            "content-type": "application/json"})
    assert r.status_code == 200, r.text
    stored = [v for where, v in text_values(tote.db_url) if where == "tracking_events.location"]
    assert WITHHELD in stored
    assert found_in_rows(tote.db_url, ["4111111111111111"]) == []
