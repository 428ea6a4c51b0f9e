"""WatchOrder and WatchOrders: history then live events, for many watchers at once."""

import concurrent.futures
import threading
import time

import grpc
import pytest

from tests.harness import ToteServer, cod, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    # A hundred watchers of one storefront's token: above the default cap of streams a token
    # may hold (test_watch_limits.py tests the cap).
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"),
                        args=["--cod-limit-minor", "2000000",
                              "--max-streams-per-token", "200"]).start()
    try:
        yield server
    finally:
        server.terminate()


def test_a_hundred_watchers_each_see_every_event_of_their_order_in_order(tote, admin, shop):
    sku = unique("WATCH")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 5)
    # Ten orders, five of which will run out of stock and end CANCELLED (the stream's end).
    placed = [shop.place([(sku, 1)], cod()) for _ in range(10)]
    # A PROCESSING order's stream stays open until DELIVERED: its watchers stop reading at
    # Order_Assigned, the saga's last event (30 s deadline, only for a hang).
    def watch(order_id: str) -> list[pb.OrderEvent]:
        out = []
        stream = shop.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order_id),
                                        metadata=shop.metadata, timeout=30)
        for event in stream:
            out.append(event)
            if event.type == "Order_Assigned":
                stream.cancel()
                break
        return out

    with concurrent.futures.ThreadPoolExecutor(100) as pool:
        streams = list(pool.map(lambda i: watch(placed[i % 10].order_id), range(100)))
    for i, events in enumerate(streams):
        order = shop.get(placed[i % 10].order_id)
        types = [e.type for e in events]
        assert types[0] == "Order_Created"
        ids = [int(e.event_id) for e in events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        if order.status == pb.ORDER_STATUS_CANCELLED:
            assert types[-1] == "Order_Cancelled"  # the stream ended by itself
        else:
            assert types[-2:] == ["Order_Ready_for_Fulfillment", "Order_Assigned"]
    assert sum(shop.get(o.order_id).status == pb.ORDER_STATUS_PROCESSING for o in placed) == 5


def test_watch_orders_resumes_after_the_last_event_seen(tote, admin, shop):
    sku = unique("RESUME")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 40)
    seen: list[pb.OrderEvent] = []
    stream = shop.orders.WatchOrders(orders_pb2.WatchOrdersRequest(), metadata=shop.metadata)

    def read() -> None:
        try:
            for event in stream:
                seen.append(event)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.CANCELLED

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # The stream is "from now on": it is live once it shows an order placed after it opened
    # (a probe is placed again until one shows; each gets a second before the next).
    deadline = time.monotonic() + 30
    while True:
        probe = shop.place([(sku, 1)], cod()).order_id
        shown = time.monotonic() + 1
        while time.monotonic() < shown and not any(e.order_id == probe for e in seen):
            time.sleep(0.02)
        if any(e.order_id == probe for e in seen):
            break
        assert time.monotonic() < deadline, "WatchOrders never showed a new order"
    first = shop.place([(sku, 1)], cod())
    shop.wait_status(first.order_id, {pb.ORDER_STATUS_PROCESSING})
    while not any(e.order_id == first.order_id and e.type == "Order_Assigned" for e in seen):
        assert time.monotonic() < deadline, "the first order's Order_Assigned never came"
        time.sleep(0.05)
    stream.cancel()
    reader.join(5)
    last_seen = seen[-1].event_id
    # While disconnected, another order goes through the saga.
    second = shop.place([(sku, 2)], cod())
    shop.wait_status(second.order_id, {pb.ORDER_STATUS_PROCESSING})
    resumed = shop.orders.WatchOrders(
        orders_pb2.WatchOrdersRequest(after_event_id=last_seen), metadata=shop.metadata,
        timeout=3)
    got = []
    try:
        for event in resumed:
            got.append(event)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert all(int(e.event_id) > int(last_seen) for e in got)
    types = [e.type for e in got if e.order_id == second.order_id]
    assert types[0] == "Order_Created" and types[-1] == "Order_Assigned"
    assert not [e for e in got if e.order_id == first.order_id]
