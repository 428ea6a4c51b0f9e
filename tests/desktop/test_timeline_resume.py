"""The console's order timeline (WatchOrder) outlives its server: the server is SIGKILLed and
another takes its address (a restart, or the next replica behind one name); the timeline
watches again, shows the events that happened meanwhile, and none of the old ones twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.client import ConsoleClient
from desktop.controller import ConsoleController
from tests.harness import ToteServer, cod, free_port, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

pytestmark = [pytest.mark.qt, pytest.mark.slow]


def test_the_timeline_watches_again_after_its_server_went_away(qtbot, tmp_path: Path) -> None:
    db = str(tmp_path / "tote.db")
    address = f"127.0.0.1:{free_port()}"
    first = ToteServer(db, tmp_path, args=["--listen", address]).start()
    admin = first.client(first.token("admin"))
    admin.fc("FC-BLR")
    sku = unique("SKU")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 5)
    order_id = admin.place([(sku, 1)], cod()).order_id
    admin.wait_status(order_id, {pb.ORDER_STATUS_PROCESSING})
    admin.close()
    client = ConsoleClient(address, first.token("supervisor", "desk"))
    controller = ConsoleController(client)
    seen: list[pb.OrderEvent] = []
    controller.order_history_event.connect(lambda _order_id, event: seen.append(event))
    second = None
    try:
        controller.watch_order(order_id)
        qtbot.waitUntil(lambda: any(e.type == "Order_Assigned" for e in seen), timeout=30_000)
        first.kill()
        second = ToteServer(db, tmp_path, args=["--listen", address]).start()
        boss = second.client(second.token("supervisor"))
        # (wait_for_ready: this process's channels share gRPC's subchannels, and the one to
        # this address may still be backing off from the kill)
        boss.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=order_id,
                                                              reason="changed my mind"),
                                metadata=boss.metadata, timeout=30, wait_for_ready=True)
        boss.close()
        qtbot.waitUntil(lambda: any(e.type == "Order_Cancelled" for e in seen), timeout=60_000)
        ids = [e.event_id for e in seen]
        assert len(ids) == len(set(ids)), "an event came twice"
        assert seen[0].type == "Order_Created"
    finally:
        controller.stop()
        client.close()
        first.kill()
        if second is not None:
            second.terminate()
