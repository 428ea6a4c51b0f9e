"""Who may call what: tokens, roles per RPC (API.md), storefront tenancy, and the public
health and reflection services — against a real `tote serve` (SQLite is enough here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from server.auth import ROLES
from tests import live_server
from tests.harness import Client, cod, unique
from tests.protos import service
from tote.v1 import common_pb2, orders_pb2

SERVICES = [service(name) for name in (
    "OrderService", "CatalogService", "InventoryService", "FulfillmentService",
    "ShippingService", "WebhookService", "NotificationService")]
METHODS = [m for s in SERVICES for m in s.methods]
ROLE_NAMES = ("storefront", "picker", "supervisor", "carrier", "admin")


def path(method) -> str:  # type: ignore[no-untyped-def]
    return f"/{method.containing_service.full_name}/{method.name}"


# API.md, read line by line (admin may do everything, so it is in no row):
#   OrderService (storefront, supervisor)
#   CatalogService and InventoryService (supervisor; GetStock, GetProduct and ListProducts
#     also storefront: tote prices every order from the catalog)
#   FulfillmentService (supervisor, every RPC; picking RPCs also picker) — the handheld's RPCs
#     are the picker's too: NextPickTask, ScanItem, ReportShortPick, and PackOrder (packers use
#     the same handhelds; there is no packer role). A supervisor packs at the problem-solving
#     desk. RecordTrackingEvent is the carrier's alone.
#   ShippingService (supervisor; RecordTrackingEvent carrier)
API_MD: dict[str, set[str]] = {
    **{f"OrderService/{m}": {"storefront", "supervisor"} for m in (
        "PlaceOrder", "GetOrder", "ListOrders", "CancelOrder", "WatchOrder", "WatchOrders")},
    "CatalogService/UpsertProduct": {"supervisor"},
    **{f"CatalogService/{m}": {"supervisor", "storefront"} for m in (
        "GetProduct", "ListProducts")},
    "InventoryService/ReceiveStock": {"supervisor"},
    "InventoryService/GetStock": {"supervisor", "storefront"},
    **{f"FulfillmentService/{m}": {"supervisor"} for m in (
        "UpsertFulfillmentCenter", "ListFulfillmentCenters", "ExplainRouting", "AssignOrder")},
    **{f"FulfillmentService/{m}": {"picker", "supervisor"} for m in (
        "NextPickTask", "ScanItem", "ReportShortPick", "PackOrder")},
    **{f"ShippingService/{m}": {"supervisor"} for m in (
        "GetLabel", "HandOff", "RecordCodRemittance", "GetCodReconciliation")},
    "ShippingService/RecordTrackingEvent": {"carrier"},
    # tote's additions (API.md: "add freely"), with the roles README gives them
    "FulfillmentService/GetPackList": {"picker", "supervisor"},
    "FulfillmentService/GetOrderDocument": {"picker", "supervisor"},
    "FulfillmentService/GetThroughput": {"supervisor"},
    "ShippingService/GetManifest": {"supervisor"},
    "OrderService/QuoteOrder": {"storefront", "supervisor"},
    # Storefront webhooks: a storefront's own endpoints (admin: any storefront's)
    **{f"WebhookService/{m}": {"storefront"} for m in (
        "CreateEndpoint", "ListEndpoints", "DeleteEndpoint", "ListDeliveries", "Redeliver")},
    # Customer notifications: a storefront keeps its customers' opt-outs and reads its orders'
    # messages; dead letters and their resend are the supervisor's
    **{f"NotificationService/{m}": {"storefront", "supervisor"} for m in (
        "SetPreferences", "GetPreferences", "ListMessages")},
    **{f"NotificationService/{m}": {"supervisor"} for m in ("ListDeadLetters", "Resend")},
}
EXPECTED = {f"/tote.v1.{rpc}": roles | {"admin"} for rpc, roles in API_MD.items()}



db_url = live_server.db_url  # SQLite only: auth does not depend on the backend


@pytest.fixture(scope="module")
def channel(tote) -> Iterator[grpc.Channel]:  # type: ignore[no-untyped-def]
    with grpc.insecure_channel(tote.grpc_address) as ch:
        yield ch


@pytest.fixture(scope="module")
def tokens(tote, admin) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {role: tote.token(role, f"{role}-auth") for role in ROLE_NAMES}


def call(channel: grpc.Channel, method, metadata=(), timeout: float = 5.0) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    """Call an RPC with an empty request; the status code it ends with (OK for a reply)."""
    code, _ = call_details(channel, method, metadata, timeout)
    return code


def call_details(channel, method, metadata=(), timeout: float = 5.0):  # type: ignore[no-untyped-def]
    request = message_factory.GetMessageClass(method.input_type)()
    kw = dict(request_serializer=type(request).SerializeToString, response_deserializer=None)
    try:
        if method.server_streaming:
            for _ in channel.unary_stream(path(method), **kw)(
                    request, metadata=metadata, timeout=timeout):
                pass
        else:
            channel.unary_unary(path(method), **kw)(request, metadata=metadata, timeout=timeout)
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def short(method) -> float:  # type: ignore[no-untyped-def]
    """A deadline that ends a never-ending stream soon, yet never cuts a unary call short."""
    return 1.5 if method.server_streaming else 10.0


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


# --- authentication -------------------------------------------------------------------------


def test_the_generated_descriptors_hold_the_services_and_their_rpcs():
    assert [s.full_name for s in SERVICES] == [
        "tote.v1.OrderService", "tote.v1.CatalogService", "tote.v1.InventoryService",
        "tote.v1.FulfillmentService", "tote.v1.ShippingService", "tote.v1.WebhookService",
        "tote.v1.NotificationService"]
    assert sorted(path(m) for m in METHODS) == sorted(EXPECTED)
    assert [m.name for m in METHODS if m.server_streaming] == ["WatchOrder", "WatchOrders"]


@pytest.mark.parametrize("method", METHODS, ids=path)
def test_every_rpc_without_a_token_is_unauthenticated_saying_how_to_get_one(channel, method):
    code, details = call_details(channel, method)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer <token>" in details
    assert "tote token create" in details


@pytest.mark.parametrize("method", METHODS, ids=path)
def test_every_rpc_with_an_unknown_token_is_unauthenticated_saying_how_to_get_one(
        channel, method):
    code, details = call_details(channel, method, bearer("tote_not-a-token-anyone-made"))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert "unknown" in details and "tote token create" in details


@pytest.mark.parametrize("header", ["Basic {t}", "Bearer", "Bearer ", "{t}", "Token {t}"])
def test_a_real_token_in_a_malformed_header_is_unauthenticated(channel, tokens, header):
    method = orders_pb2.DESCRIPTOR.services_by_name["OrderService"].methods_by_name["ListOrders"]
    metadata = (("authorization", header.format(t=tokens["admin"])),)
    assert call(channel, method, metadata) == grpc.StatusCode.UNAUTHENTICATED
    assert call(channel, method, bearer(tokens["admin"])) == grpc.StatusCode.OK


# --- roles ----------------------------------------------------------------------------------


def test_the_interceptors_role_table_is_api_md():
    table = {m: set(roles) | {"admin"} for m, roles in ROLES.items()}
    assert table == EXPECTED


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("method", METHODS, ids=path)
def test_each_role_may_call_exactly_the_rpcs_api_md_gives_it(channel, tokens, method, role):
    code, details = call_details(channel, method, bearer(tokens[role]),
                                 timeout=short(method))
    if role in EXPECTED[path(method)]:
        assert code not in (grpc.StatusCode.PERMISSION_DENIED,
                            grpc.StatusCode.UNAUTHENTICATED), details
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert repr(role) in details and path(method) in details


# --- storefront tenancy ---------------------------------------------------------------------


shop_b = live_server.role_client("storefront", "shop-b")
supervisor = live_server.role_client("supervisor", "floor")


@pytest.fixture(scope="module")
def two_orders(admin, shop, shop_b) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(shop A's order, shop B's order), both COD so no card is needed."""
    sku = unique("MUG")
    admin.product(sku, price_minor=10_000)
    admin.receive("FC-BLR", sku, 10)
    a = shop.place([(sku, 1)], cod(), customer_id="cust-a").order_id
    b = shop_b.place([(sku, 1)], cod(), customer_id="cust-b").order_id
    return a, b


def not_found_details(fn) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        fn()
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND, exc.value.details()
    return exc.value.details()


def test_storefront_b_gets_not_found_for_shop_as_order_as_if_it_did_not_exist(
        shop, shop_b, two_orders):
    a, b = two_orders
    assert shop.get(a).order_id == a and shop_b.get(b).order_id == b
    theirs = not_found_details(lambda: shop_b.get(a))
    nobody = "ord_01J0000000000000000000NONE"
    missing = not_found_details(lambda: shop_b.get(nobody))
    assert theirs == missing.replace(nobody, a)


def test_storefront_b_cannot_cancel_shop_as_order(shop, shop_b, two_orders):
    a, _ = two_orders
    not_found_details(lambda: shop_b.orders.CancelOrder(
        orders_pb2.CancelOrderRequest(order_id=a, reason="not mine"), metadata=shop_b.metadata))
    order = shop.get(a)
    assert order.status != common_pb2.ORDER_STATUS_CANCELLED
    assert order.cancel_reason == ""


def test_storefront_b_cannot_watch_shop_as_order(shop, shop_b, two_orders):
    a, _ = two_orders

    def watch() -> None:
        for _ in shop_b.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=a),
                                          metadata=shop_b.metadata, timeout=5):
            pass

    not_found_details(watch)
    assert [e.type for e in shop.events(a, timeout_s=1)][0] == "Order_Created"


def test_list_orders_shows_a_storefront_only_its_own_and_a_supervisor_both(
        shop, shop_b, supervisor, two_orders):
    a, b = two_orders

    def ids(client: Client) -> set[str]:
        reply = client.orders.ListOrders(orders_pb2.ListOrdersRequest(page_size=500),
                                         metadata=client.metadata)
        return {o.order_id for o in reply.orders}

    assert a in ids(shop) and b not in ids(shop)
    assert b in ids(shop_b) and a not in ids(shop_b)
    assert {a, b} <= ids(supervisor)
    both = supervisor.orders.ListOrders(orders_pb2.ListOrdersRequest(customer_id="cust-a"),
                                        metadata=supervisor.metadata)
    assert a in {o.order_id for o in both.orders}
    none = shop_b.orders.ListOrders(orders_pb2.ListOrdersRequest(customer_id="cust-a"),
                                    metadata=shop_b.metadata)
    assert list(none.orders) == []


def watch_orders(client: Client, seconds: float, after: str = "0") -> list:  # type: ignore[type-arg]
    """Every event WatchOrders sends within `seconds` (it never ends by itself)."""
    out = []
    stream = client.orders.WatchOrders(orders_pb2.WatchOrdersRequest(after_event_id=after),
                                       metadata=client.metadata, timeout=seconds)
    try:
        for event in stream:
            out.append(event)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED, exc.details()
    return out


def test_watch_orders_of_storefront_b_replays_only_its_own_events(shop_b, supervisor, two_orders):
    a, b = two_orders
    seen_b = {e.order_id for e in watch_orders(shop_b, 1.0)}
    assert b in seen_b and a not in seen_b
    seen_all = {e.order_id for e in watch_orders(supervisor, 1.0)}
    assert {a, b} <= seen_all


class Listener(threading.Thread):
    """A live WatchOrders stream ("from now on") read in the background."""

    def __init__(self, client: Client) -> None:
        super().__init__(daemon=True)
        self.order_ids: list[str] = []
        self.stream = client.orders.WatchOrders(orders_pb2.WatchOrdersRequest(),
                                                metadata=client.metadata, timeout=60)
        self.start()

    def run(self) -> None:
        try:
            for event in self.stream:
                self.order_ids.append(event.order_id)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.CANCELLED, exc.details()

    def wait_for(self, *order_ids: str, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while not set(order_ids) <= set(self.order_ids):
            assert time.monotonic() < deadline, f"no events of {order_ids} in {self.order_ids}"
            time.sleep(0.05)

    def close(self) -> list[str]:
        self.stream.cancel()
        self.join(10)
        return self.order_ids


def test_watch_orders_of_storefront_b_sends_no_live_events_of_shop_a(
        admin, shop, shop_b, supervisor):
    sku = unique("CUP")
    admin.product(sku, price_minor=10_000)
    admin.receive("FC-BLR", sku, 10)
    of_b, of_all = Listener(shop_b), Listener(supervisor)
    # Retry a probe order of B until both streams are live (subscribing takes a moment).
    deadline = time.monotonic() + 10
    while True:
        probe = shop_b.place([(sku, 1)], cod()).order_id
        time.sleep(0.2)  # a poll's pace, not a wait: each probe is checked for below
        if probe in of_b.order_ids and probe in of_all.order_ids:
            break
        assert time.monotonic() < deadline, "the WatchOrders streams never went live"
    a = shop.place([(sku, 1)], cod()).order_id
    # A's saga is over (no more events of it) before B places b: the stream is in commit
    # order, so a leak of A's events would reach B's stream before b's events do.
    processing = common_pb2.ORDER_STATUS_PROCESSING
    assert shop.wait_status(a, {processing}).status == processing
    b = shop_b.place([(sku, 1)], cod()).order_id
    of_all.wait_for(a, b)
    of_b.wait_for(b)
    seen_b, seen_all = set(of_b.close()), set(of_all.close())
    assert a in seen_all and a not in seen_b
    assert probe in seen_b and b in seen_b


# --- public services and what is not built yet ----------------------------------------------


def test_health_of_the_whole_server_is_serving_without_a_token(channel):
    reply = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_five_services_without_a_token(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    replies = list(stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5))
    names = {s.name for s in replies[0].list_services_response.service}
    assert {s.full_name for s in SERVICES} <= names
    files = list(stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="tote.v1.OrderService")]), timeout=5))
    assert files[0].file_descriptor_response.file_descriptor_proto


def test_every_rpc_of_the_contract_is_built(channel, tokens):
    unimplemented = {f"{m.containing_service.name}/{m.name}" for m in METHODS
                     if call(channel, m, bearer(tokens["admin"]), timeout=short(m))
                     == grpc.StatusCode.UNIMPLEMENTED}
    assert unimplemented == set()
