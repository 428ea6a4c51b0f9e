"""Storefront webhooks through a real `tote serve` to a real HTTP receiver on loopback:
signed as Standard Webhooks says (verified with its reference implementation), retried on the
schedule, in order per order, an endpoint disabled after the whole schedule and enabled again
by Redeliver, storefronts kept apart, unsafe URLs refused, no redirect followed, no endless
answer read. The deliveries are made by the server's own outbox consumer ("webhooks":
core/service/webhooks.fan_out) from the events of orders placed through it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from core.persistence.db import Database
from core.persistence.repos import events as event_repo
from core.service import webhooks
from tests.harness import Client, ToteServer, cod, unique
from tests.webhook_receiver import Receiver, wait_for
from tote.v1 import webhooks_pb2 as pb
from tote.v1 import webhooks_pb2_grpc

KEY = "test-signing-key-" + "k" * 32
# The second wait is longer than the sender's poll (0.25 s): a retry sent when merely due
# again, not when the schedule says, arrives too soon.
SCHEDULE = "0.1s,0.6s"
DELIVERED, FAILED = pb.WEBHOOK_DELIVERY_STATUS_DELIVERED, pb.WEBHOOK_DELIVERY_STATUS_FAILED


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"),
                        args=["--webhooks-allow-private", "--webhook-retry-schedule",
                              SCHEDULE, "--metrics-listen", "127.0.0.1:0"],
                        env={"TOTE_WEBHOOK_SIGNING_KEY": KEY}).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture(scope="module")
def stocked(tote) -> tuple[Client, str]:  # type: ignore[no-untyped-def]
    """(an admin client, a SKU in stock at an FC)."""
    admin = tote.client(tote.token("admin", "ops"))
    fc, sku = unique("FC"), unique("SKU")
    admin.fc(fc)
    admin.product(sku)
    admin.receive(fc, sku, 1000)
    return admin, sku


class Shop:
    """A storefront of its own (its token, its webhook stub)."""

    def __init__(self, tote: ToteServer, name: str | None = None) -> None:
        self.name = name or unique("shop")
        self.client = tote.client(tote.token("storefront", self.name))
        self.hooks = webhooks_pb2_grpc.WebhookServiceStub(self.client.channel)
        self.md = self.client.metadata

    def create(self, url: str, *types: str) -> pb.CreateEndpointResponse:
        return self.hooks.CreateEndpoint(pb.CreateEndpointRequest(url=url, event_types=types),
                                         metadata=self.md)

    def endpoint(self, endpoint_id: str) -> pb.WebhookEndpoint:
        found = self.hooks.ListEndpoints(pb.ListEndpointsRequest(), metadata=self.md).endpoints
        return next(e for e in found if e.endpoint_id == endpoint_id)

    def deliveries(self, endpoint_id: str, **kw) -> list[pb.WebhookDelivery]:  # type: ignore[no-untyped-def]
        return list(self.hooks.ListDeliveries(pb.ListDeliveriesRequest(
            endpoint_id=endpoint_id, **kw), metadata=self.md).deliveries)


def place(shop: Shop, sku: str) -> str:
    return shop.client.place([(sku, 1)], cod()).order_id


def events_of(db_url: str, order_id: str) -> list:  # type: ignore[type-arg]
    db = Database(db_url)
    try:
        return db.run_read(lambda s: event_repo.of_order(s, order_id))
    finally:
        db.dispose()


def test_every_delivery_is_signed_as_the_reference_implementation_verifies(
        tote, receiver, stocked):
    shop = Shop(tote)
    path = f"/ok/{shop.name}"
    created = shop.create(receiver.url + path)
    assert created.secret.startswith("whsec_")
    order_id = place(shop, stocked[1])

    got = wait_for("the order's events up to Order_Ready_for_Fulfillment", lambda: any(
        b'"type":"Order_Ready_for_Fulfillment"' in r.body for r in receiver.at(path))
        and receiver.at(path))
    verifier = Webhook(created.secret)
    ids = [int(r.headers["webhook-id"]) for r in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # in event order, each once
    stored = {e.event_id: e.type for e in events_of(tote.db_url, order_id)}
    assert set(ids) <= set(stored)
    for r in got:
        payload = verifier.verify(r.body, r.headers)  # raises if the signature is wrong
        event = payload["data"]["event"]
        assert event["event_id"] == r.headers["webhook-id"]
        assert payload["type"] == event["type"]
        assert payload["data"]["order"]["order_id"] == order_id
        assert event["type"] == stored[int(r.headers["webhook-id"])]
    with pytest.raises(WebhookVerificationError):  # another endpoint's secret does not verify them
        Webhook(shop.create(receiver.url + path + "/2").secret).verify(got[0].body,
                                                                        got[0].headers)
    done = wait_for("delivered", lambda: all(
        d.status == DELIVERED for d in shop.deliveries(created.endpoint.endpoint_id)))
    assert done

    metrics = httpx.get(tote.metrics_url).text
    assert 'tote_webhook_attempts_total{delivery="delivered",result="2xx"}' in metrics
    assert "tote_webhook_attempt_seconds_count" in metrics

    # The outbox's runner may hand the same events over again (at least once): nothing new.
    before = len(shop.deliveries(created.endpoint.endpoint_id, page_size=500))
    db = Database(tote.db_url)
    try:
        db.run_write(lambda s: webhooks.fan_out(s, event_repo.of_order(s, order_id),
                                                datetime.now(UTC)))
    finally:
        db.dispose()
    assert len(shop.deliveries(created.endpoint.endpoint_id, page_size=500)) == before


def test_retries_follow_the_schedule_then_the_endpoint_is_disabled_and_redeliver_recovers(
        tote, receiver, stocked):
    shop = Shop(tote)
    path = f"/switch/{shop.name}"
    endpoint = shop.create(receiver.url + path, "Order_Created").endpoint
    place(shop, stocked[1])

    disabled = wait_for("the endpoint disabled",
                        lambda: not (e := shop.endpoint(endpoint.endpoint_id)).enabled and e)
    assert "HTTP 500" in disabled.disabled_reason and "3 times" in disabled.disabled_reason
    [delivery] = shop.deliveries(endpoint.endpoint_id)
    assert delivery.status == FAILED
    assert [a.http_status for a in delivery.attempts] == [500, 500, 500]  # 1 + the 2 waits
    times = [a.attempted_at.ToDatetime() for a in delivery.attempts]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.6  # never sooner than the schedule says
    # An event of the disabled endpoint is recorded, failed, not sent.
    place(shop, stocked[1])
    wait_for("the later event recorded", lambda: len(shop.deliveries(endpoint.endpoint_id)) == 2)
    assert [d.status for d in shop.deliveries(endpoint.endpoint_id)] == [FAILED, FAILED]
    assert len(receiver.at(path)) == 3

    receiver.modes[shop.name] = 200  # the storefront fixed its endpoint
    answer = shop.hooks.Redeliver(pb.RedeliverRequest(endpoint_id=endpoint.endpoint_id),
                                  metadata=shop.md)
    assert answer.redelivered == 2 and answer.endpoint.enabled
    wait_for("both delivered", lambda: all(
        d.status == DELIVERED for d in shop.deliveries(endpoint.endpoint_id)))
    assert shop.endpoint(endpoint.endpoint_id).enabled


def test_an_orders_events_wait_while_an_earlier_one_is_retried(tote, receiver, stocked):
    shop = Shop(tote)
    path = f"/flaky/{shop.name}"
    endpoint = shop.create(receiver.url + path, "Order_Created",
                           "Order_Ready_for_Fulfillment").endpoint
    order_id = place(shop, stocked[1])

    wait_for("both delivered", lambda: len(shop.deliveries(endpoint.endpoint_id)) == 2 and all(
        d.status == DELIVERED for d in shop.deliveries(endpoint.endpoint_id)))
    first, second = (e.event_id for e in events_of(tote.db_url, order_id)
                     if e.type in ("Order_Created", "Order_Ready_for_Fulfillment"))
    seen = [int(r.headers["webhook-id"]) for r in receiver.at(path)]
    # The first failed twice and was retried; the second was not sent until it was through.
    assert seen[:3] == [first, first, first]
    assert seen[3:6] == [second, second, second]


def test_410_gone_disables_the_endpoint_at_once(tote, receiver, stocked):
    shop = Shop(tote)
    endpoint = shop.create(f"{receiver.url}/gone/{shop.name}", "Order_Created").endpoint
    place(shop, stocked[1])
    gone = wait_for("disabled", lambda: not (e := shop.endpoint(endpoint.endpoint_id)).enabled
                    and e)
    assert "410" in gone.disabled_reason
    [delivery] = shop.deliveries(endpoint.endpoint_id)
    assert delivery.status == FAILED and len(delivery.attempts) == 1


def test_a_redirect_is_a_failed_attempt_and_is_not_followed(tote, receiver, stocked):
    shop = Shop(tote)
    endpoint = shop.create(f"{receiver.url}/redirect/{shop.name}", "Order_Created").endpoint
    before = len(receiver.at("/ok/redirected"))
    place(shop, stocked[1])
    [delivery] = wait_for("the first attempt", lambda: [
        d for d in shop.deliveries(endpoint.endpoint_id) if d.attempts])
    assert delivery.attempts[0].http_status == 302
    assert "not followed" in delivery.attempts[0].error
    assert len(receiver.at("/ok/redirected")) == before


def test_an_endless_answer_is_not_read_past_the_cap(tote, receiver, stocked):
    shop = Shop(tote)
    endpoint = shop.create(f"{receiver.url}/big/{shop.name}", "Order_Created").endpoint
    place(shop, stocked[1])
    # Reading on to the end (1 GiB) would outlast the attempt's total timeout: a failure.
    [delivery] = wait_for("delivered", lambda: [
        d for d in shop.deliveries(endpoint.endpoint_id) if d.status == DELIVERED], 15)
    assert delivery.attempts[-1].http_status == 200 and not delivery.attempts[-1].error
    assert receiver.big_sent[-1] < 1 << 30


def test_a_storefront_sees_and_changes_only_its_own_endpoints(tote, receiver):
    a, b = Shop(tote), Shop(tote)
    mine = a.create(f"{receiver.url}/ok/{a.name}").endpoint
    assert [e.endpoint_id for e in b.hooks.ListEndpoints(
        pb.ListEndpointsRequest(), metadata=b.md).endpoints] == []
    for call, request in (
            (b.hooks.DeleteEndpoint, pb.DeleteEndpointRequest(endpoint_id=mine.endpoint_id)),
            (b.hooks.ListDeliveries, pb.ListDeliveriesRequest(endpoint_id=mine.endpoint_id)),
            (b.hooks.Redeliver, pb.RedeliverRequest(endpoint_id=mine.endpoint_id))):
        with pytest.raises(grpc.RpcError) as refused:
            call(request, metadata=b.md)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as other:
        b.hooks.CreateEndpoint(pb.CreateEndpointRequest(url=f"{receiver.url}/ok/x",
                                                        storefront=a.name), metadata=b.md)
    assert other.value.code() == grpc.StatusCode.PERMISSION_DENIED
    ops = tote.client(tote.token("supervisor", "ops"))
    with pytest.raises(grpc.RpcError) as role:
        webhooks_pb2_grpc.WebhookServiceStub(ops.channel).ListEndpoints(
            pb.ListEndpointsRequest(), metadata=ops.metadata)
    assert role.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert a.endpoint(mine.endpoint_id).enabled  # still there
    a.hooks.DeleteEndpoint(pb.DeleteEndpointRequest(endpoint_id=mine.endpoint_id),
                           metadata=a.md)
    assert list(a.hooks.ListEndpoints(pb.ListEndpointsRequest(), metadata=a.md).endpoints) == []


def test_an_admin_creates_for_a_named_storefront_and_sees_every_one(tote, receiver):
    shop = Shop(tote)
    admin = tote.client(tote.token("admin", "ops"))
    hooks = webhooks_pb2_grpc.WebhookServiceStub(admin.channel)
    with pytest.raises(grpc.RpcError) as unnamed:
        hooks.CreateEndpoint(pb.CreateEndpointRequest(url=f"{receiver.url}/ok/a"),
                             metadata=admin.metadata)
    assert unnamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    made = hooks.CreateEndpoint(pb.CreateEndpointRequest(
        url=f"{receiver.url}/ok/a", storefront=shop.name), metadata=admin.metadata).endpoint
    assert shop.endpoint(made.endpoint_id).storefront == shop.name
    listed = hooks.ListEndpoints(pb.ListEndpointsRequest(storefront=shop.name),
                                 metadata=admin.metadata).endpoints
    assert [e.endpoint_id for e in listed] == [made.endpoint_id]


def test_bad_event_types_and_redeliver_requests_are_refused(tote, receiver):
    shop = Shop(tote)
    with pytest.raises(grpc.RpcError) as bad:
        shop.create(f"{receiver.url}/ok/x", "Order_Teleported")
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Order_Teleported" in bad.value.details()
    for request in (pb.RedeliverRequest(), pb.RedeliverRequest(delivery_id="x1"),
                    pb.RedeliverRequest(delivery_id="1", endpoint_id="we_1"),
                    pb.ListDeliveriesRequest(page_token="nonsense")):
        call = (shop.hooks.ListDeliveries if isinstance(request, pb.ListDeliveriesRequest)
                else shop.hooks.Redeliver)
        with pytest.raises(grpc.RpcError) as refused:
            call(request, metadata=shop.md)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request


def test_the_deliveries_page_by_keyset(tote, receiver, stocked):
    shop = Shop(tote)
    endpoint = shop.create(f"{receiver.url}/ok/{shop.name}").endpoint
    place(shop, stocked[1])
    wait_for("three deliveries", lambda: len(shop.deliveries(endpoint.endpoint_id)) >= 3)
    every = [d.event_id for d in shop.deliveries(endpoint.endpoint_id, page_size=500)]
    seen: list[str] = []
    token = ""
    while True:
        page = shop.hooks.ListDeliveries(pb.ListDeliveriesRequest(
            endpoint_id=endpoint.endpoint_id, page_size=2, page_token=token), metadata=shop.md)
        seen += [d.event_id for d in page.deliveries]
        token = page.next_page_token
        if not token:
            break
    # Each once, newest first (more may have arrived meanwhile: at the front, not repeated).
    assert set(every) <= set(seen) and len(set(seen)) == len(seen)
    assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    """A server as in production: a signing key, private addresses refused."""
    from core.persistence import migrate

    url = str(tmp_path_factory.mktemp("guarded") / "tote.db")
    migrate.upgrade(url)
    server = ToteServer(url, tmp_path_factory.mktemp("serve"),
                        env={"TOTE_WEBHOOK_SIGNING_KEY": KEY}).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://localhost/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("http://192.168.0.10/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
    ("ftp://example.com/hook", "http:// or https://"),
    ("http://user:pw@example.com/hook", "user or password"),
    ("not a url", "http:// or https://"),
])
def test_unsafe_urls_are_refused_without_the_flag(guarded, url, why):
    shop = Shop(guarded)
    with pytest.raises(grpc.RpcError) as refused:
        shop.create(url)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert why in refused.value.details()
    assert list(shop.hooks.ListEndpoints(pb.ListEndpointsRequest(),
                                         metadata=shop.md).endpoints) == []


def test_without_a_signing_key_create_endpoint_says_how_to_configure_one(tmp_path):
    from core.persistence import migrate

    url = str(tmp_path / "tote.db")
    migrate.upgrade(url)
    server = ToteServer(url, tmp_path).start()
    try:
        shop = Shop(server)
        with pytest.raises(grpc.RpcError) as off:
            shop.create("https://example.com/hook")
        assert off.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "--webhook-signing-key-file" in off.value.details()
    finally:
        server.terminate()


def test_the_body_is_the_event_and_the_order_as_get_order_answers_them(tote, stocked):
    """core/service/webhook_body.py writes protobuf's JSON mapping by hand (core imports no
    protobuf): it must equal json_format's for the same order and events."""
    from google.protobuf import json_format

    from core.service import orders
    from core.service.webhook_body import event_json, order_json
    from server import convert

    shop = Shop(tote)
    order_id = place(shop, stocked[1])
    wait_for("assigned", lambda: shop.client.get(order_id).fc_id)
    db = Database(tote.db_url)
    try:
        snap = db.run_read(lambda s: orders.load(s, order_id))
        events = db.run_read(lambda s: event_repo.of_order(s, order_id))
    finally:
        db.dispose()
    assert order_json(snap) == json_format.MessageToDict(
        convert.order_to_pb(snap), preserving_proto_field_name=True)
    for e in events:
        assert event_json(e) == json_format.MessageToDict(
            convert.event_to_pb(e), preserving_proto_field_name=True)
    assert json.loads(json.dumps(order_json(snap))) == order_json(snap)
