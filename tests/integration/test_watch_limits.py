"""What a watch stream may cost (server/watching.py, server/hub.py): a WatchOrders watcher that
does not read is ended with ABORTED and the id to resume after once the hub's buffer passes
it; history is replayed a page at a time; a token holds a bounded number of streams; a client
that goes away is no error. A server with a tiny buffer, page and cap makes each quick."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing

import grpc
import pytest

from tests.harness import ROOT, Client, ToteServer, cod, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2, orders_pb2_grpc

BUFFER, PAGE, CAP = 20, 3, 3


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    # As environment variables (the flags' other spelling), which a server without these
    # options ignores: so the tests also run against the code before them.
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"), args=["--log-level", "DEBUG"],
                        env={"TOTE_WATCH_BUFFER_EVENTS": str(BUFFER),
                             "TOTE_WATCH_REPLAY_PAGE": str(PAGE),
                             "TOTE_MAX_STREAMS_PER_TOKEN": str(CAP)}).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture
def sku(admin) -> str:  # type: ignore[no-untyped-def]
    sku = unique("WL")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 1000)
    return sku


def _processing(shop: Client, sku: str, n: int) -> list[str]:
    placed = [shop.place([(sku, 1)], cod()).order_id for _ in range(n)]
    for order_id in placed:
        assert shop.wait_status(order_id, {pb.ORDER_STATUS_PROCESSING}).status == \
            pb.ORDER_STATUS_PROCESSING
    return placed


def _until_assigned(stream, orders: set[str], out: list[pb.OrderEvent]) -> None:  # type: ignore[no-untyped-def]
    """Read until every one of `orders` has shown Order_Assigned (its last event for now)."""
    waiting = set(orders)
    for event in stream:
        out.append(event)
        if event.type == "Order_Assigned":
            waiting.discard(event.order_id)
        if not waiting:
            stream.cancel()
            return


def _first_event(shop: Client, order_id: str) -> pb.OrderEvent:
    stream = shop.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order_id),
                                    metadata=shop.metadata, timeout=30)
    first = next(stream)
    stream.cancel()
    return first


def test_a_watcher_that_does_not_read_is_told_where_to_resume_and_misses_nothing(
        tote, shop, sku, db_url):
    probe = _processing(shop, sku, 1)[0]
    base = _first_event(shop, probe).event_id
    # A client whose HTTP/2 window is one KB: once that much is unread, the server's `yield`
    # waits (nothing more leaves the server) while the hub's buffer moves on.
    slow_channel = grpc.insecure_channel(tote.grpc_address, options=[
        ("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 1024)])
    with closing(slow_channel):
        slow = orders_pb2_grpc.OrderServiceStub(slow_channel).WatchOrders(
            orders_pb2.WatchOrdersRequest(after_event_id=base), metadata=shop.metadata,
            timeout=60)
        slow.initial_metadata()  # sent with the first event: the watcher is subscribed
        placed = _processing(shop, sku, 12)  # ~50 events: more than the window and buffer
        before: list[pb.OrderEvent] = []
        with pytest.raises(grpc.RpcError) as ended:
            for event in slow:
                before.append(event)
    assert ended.value.code() == grpc.StatusCode.ABORTED
    resume = dict(ended.value.trailing_metadata())["tote-resume-after"]
    assert f"after_event_id={resume}" in ended.value.details()
    assert before, "the events in flight before it fell behind arrive first"
    if not db_url.startswith("postgresql"):
        assert resume == before[-1].event_id  # (PostgreSQL's may be lower: see hub.Entry.safe)
    assert int(resume) <= int(before[-1].event_id)

    resumed: list[pb.OrderEvent] = []
    # The orders whose Order_Assigned had not reached the slow watcher before it fell behind
    # (all of them, or — when the server drained its window in time — none).
    unseen = set(placed) - {e.order_id for e in before if e.type == "Order_Assigned"}
    if unseen:
        _until_assigned(shop.orders.WatchOrders(orders_pb2.WatchOrdersRequest(
            after_event_id=resume), metadata=shop.metadata, timeout=60), unseen, resumed)
    everything: list[pb.OrderEvent] = []
    _until_assigned(shop.orders.WatchOrders(orders_pb2.WatchOrdersRequest(
        after_event_id=base), metadata=shop.metadata, timeout=60), {probe, *placed}, everything)
    assert all(int(e.event_id) > int(resume) for e in resumed)
    ids = [e.event_id for e in everything]
    assert len(set(ids)) == len(ids)
    assert {e.event_id for e in before} | {e.event_id for e in resumed} == set(ids)
    if resume == before[-1].event_id:
        assert [e.event_id for e in before + resumed][:len(ids)] == ids  # none twice


def test_history_is_replayed_a_page_at_a_time_in_order(tote, shop, sku):
    order_id = _processing(shop, sku, 1)[0]
    events: list[pb.OrderEvent] = []
    _until_assigned(shop.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order_id),
                                           metadata=shop.metadata, timeout=30),
                    {order_id}, events)
    types = [e.type for e in events]
    assert len(events) > PAGE  # more than one page of the order's history
    assert types[0] == "Order_Created" and types[-1] == "Order_Assigned"
    ids = [int(e.event_id) for e in events]
    assert ids == sorted(set(ids))


def _open_watch(client: Client, order_id: str):  # type: ignore[no-untyped-def]
    """A WatchOrder stream that has begun (its first event arrived) or failed."""
    stream = client.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order_id),
                                      metadata=client.metadata, timeout=60)
    next(stream)
    return stream


def test_a_token_holds_at_most_the_configured_number_of_streams(tote, shop, sku):
    order_id = _processing(shop, sku, 1)[0]
    held = [_open_watch(shop, order_id) for _ in range(CAP)]
    with pytest.raises(grpc.RpcError) as refused:
        _open_watch(shop, order_id)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"{CAP} WatchOrder/WatchOrders streams open" in refused.value.details()
    assert "--max-streams-per-token" in refused.value.details()
    with pytest.raises(grpc.RpcError) as too:
        next(shop.orders.WatchOrders(orders_pb2.WatchOrdersRequest(after_event_id="0"),
                                     metadata=shop.metadata, timeout=60))
    assert too.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # A supervisor's token is counted apart.
    with closing(tote.client(tote.token("supervisor", unique("sup")))) as other:
        _open_watch(other, order_id).cancel()
    held.pop().cancel()
    _open_when_freed(shop, order_id).cancel()
    for stream in held:
        stream.cancel()


def _open_when_freed(client: Client, order_id: str):  # type: ignore[no-untyped-def]
    """The server frees a slot when it sees the cancel; until then the cap still refuses."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return _open_watch(client, order_id)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert time.monotonic() < deadline, "the cancelled stream's slot never came back"


_DROPPER = """
import os, sys, grpc
sys.path[:0] = [sys.argv[3], sys.argv[3] + "/protos"]
from tote.v1 import orders_pb2, orders_pb2_grpc
channel = grpc.insecure_channel(sys.argv[1])
stream = orders_pb2_grpc.OrderServiceStub(channel).WatchOrders(
    orders_pb2.WatchOrdersRequest(after_event_id="0"),
    metadata=(("authorization", "Bearer " + sys.argv[2]),))
next(stream)
os._exit(0)  # mid-stream, no goodbye: the connection just drops
"""


def test_a_client_that_goes_away_is_a_debug_line_not_an_error(tote, sku):
    token = tote.token("storefront", unique("gone"))
    with closing(tote.client(token)) as client:
        _processing(client, sku, 1)
        # Cancelled mid-stream, its channel closed mid-stream, its process gone mid-stream.
        cancelled = client.orders.WatchOrders(orders_pb2.WatchOrdersRequest(
            after_event_id="0"), metadata=client.metadata, timeout=60)
        next(cancelled)
        cancelled.cancel()
        with closing(tote.client(token)) as closed:
            next(closed.orders.WatchOrders(orders_pb2.WatchOrdersRequest(after_event_id="0"),
                                           metadata=closed.metadata, timeout=60))
        subprocess.run([sys.executable, "-c", _DROPPER, tote.grpc_address, token, str(ROOT)],
                       check=True, timeout=60)
        # The server has seen all three go once the token may open its whole cap again.
        order_id = client.place([(sku, 1)], cod()).order_id
        held = [_open_when_freed(client, order_id) for _ in range(CAP)]
        for stream in held:
            stream.cancel()
    log = tote.log_path.read_text()
    assert " ERROR " not in log and "Traceback" not in log, log[-3000:]
    assert "went away" in log  # at DEBUG
