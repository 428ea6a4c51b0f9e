"""The GUI thread never waits on the network, and the live stream resumes after a drop."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
import pytest
from PySide6.QtCore import QTimer

from desktop.client import ConsoleClient
from desktop.controller import CONNECTED, DISCONNECTED, ConsoleController
from tote.v1 import common_pb2, orders_pb2

pytestmark = pytest.mark.qt
SLOW_S = 1.0


@pytest.fixture
def slow_server():  # type: ignore[no-untyped-def]
    """A gRPC server whose ListOrders takes a second to answer."""

    def list_orders(request, context):  # type: ignore[no-untyped-def]
        time.sleep(SLOW_S)
        return orders_pb2.ListOrdersResponse(orders=[common_pb2.Order(order_id="ord_slow")])

    handler = grpc.method_handlers_generic_handler("tote.v1.OrderService", {
        "ListOrders": grpc.unary_unary_rpc_method_handler(
            list_orders, request_deserializer=orders_pb2.ListOrdersRequest.FromString,
            response_serializer=orders_pb2.ListOrdersResponse.SerializeToString)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(None)


def test_a_slow_server_does_not_freeze_the_event_loop(qtbot, slow_server) -> None:  # type: ignore[no-untyped-def]
    client = ConsoleClient(slow_server, "t")
    controller = ConsoleController(client)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    try:
        started = time.monotonic()
        with qtbot.waitSignal(controller.orders_loaded, timeout=10_000) as loaded:
            controller.load_orders()
            assert time.monotonic() - started < 0.2  # the call went to a worker at once
        elapsed = time.monotonic() - started
        assert elapsed >= SLOW_S * 0.9
        assert [o.order_id for o in loaded.args[0]] == ["ord_slow"]
        during = [t for t in ticks if started < t < started + elapsed]
        # The timer kept firing while the call was in flight (at 20 ms; generous for a busy box).
        assert len(during) >= 10
        assert controller.state == CONNECTED
    finally:
        timer.stop()
        controller.stop()
        controller.deleteLater()
        client.close()


class _Unavailable(grpc.RpcError):
    def code(self):  # type: ignore[no-untyped-def]
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection refused"


class _Call:
    """A stand-in for a WatchOrders call: some events, then the connection drops (or hangs)."""

    def __init__(self, events: list[common_pb2.OrderEvent], drop: bool) -> None:
        self.events, self.drop, self.cancelled = events, drop, threading.Event()

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self.events
        if self.drop:
            raise _Unavailable()
        self.cancelled.wait(30)

    def cancel(self) -> None:
        self.cancelled.set()


class _FlakyClient:
    address = "fake:1"

    def __init__(self) -> None:
        self.after_ids: list[str] = []

    def watch_orders(self, fc_id: str, after_event_id: str) -> _Call:
        self.after_ids.append(after_event_id)
        if len(self.after_ids) == 1:
            return _Call([common_pb2.OrderEvent(event_id="e1", order_id="o1"),
                          common_pb2.OrderEvent(event_id="e2", order_id="o1")], drop=True)
        return _Call([common_pb2.OrderEvent(event_id="e3", order_id="o1")], drop=False)


def test_watch_orders_resumes_after_the_last_event_seen_when_the_stream_drops(qtbot) -> None:  # type: ignore[no-untyped-def]
    client = _FlakyClient()
    controller = ConsoleController(client)  # type: ignore[arg-type]
    seen: list[str] = []
    states: list[str] = []
    controller.order_event.connect(lambda e: seen.append(e.event_id))
    controller.connection_changed.connect(lambda s, _d: states.append(s))
    try:
        controller.start_watching()
        qtbot.waitUntil(lambda: seen == ["e1", "e2", "e3"], timeout=10_000)
        assert client.after_ids == ["", "e2"]
        qtbot.waitUntil(lambda: DISCONNECTED in states and states[-1] == CONNECTED,
                        timeout=5_000)
    finally:
        controller.stop()
        controller.deleteLater()
