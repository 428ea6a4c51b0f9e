"""The console given two replicas' addresses (`--server A,B`): one replica is SIGKILLed while
it runs; its calls go on against the other, its WatchOrders stream resumes there with
after_event_id (no event lost, none twice), and its connection state says connected."""

from __future__ import annotations

import pytest

from desktop.client import ConsoleClient
from desktop.controller import CONNECTED, ConsoleController
from desktop.main_window import MainWindow
from tests.harness import cod, unique
from tests.replicas import replicas  # noqa: F401  (a fixture)
from tote.v1 import common_pb2 as pb

pytestmark = [pytest.mark.qt, pytest.mark.postgres, pytest.mark.slow]


def test_the_console_carries_on_when_a_replica_is_killed(qtbot, replicas, settings) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    replicas.admin.fc("FC-BLR")
    sku = unique("SKU")
    replicas.admin.product(sku)
    replicas.admin.receive("FC-BLR", sku, 10)
    client = ConsoleClient(replicas.both, replicas.a.token("supervisor", "desk"))
    window = MainWindow(ConsoleController(client), settings)
    seen: list[pb.OrderEvent] = []
    window.controller.order_event.connect(seen.append)
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        qtbot.waitUntil(lambda: window.controller.state == CONNECTED, timeout=20_000)
        # The stream is live once it shows an order placed now.
        first = replicas.shop.place([(sku, 1)], cod()).order_id
        qtbot.waitUntil(lambda: any(e.order_id == first and e.type == "Order_Assigned"
                                    for e in seen), timeout=60_000)
        replicas.a.kill()
        second = replicas.shop.place([(sku, 1)], cod()).order_id
        replicas.shop.wait_status(second, {pb.ORDER_STATUS_PROCESSING})
        qtbot.waitUntil(lambda: any(e.order_id == second and e.type == "Order_Assigned"
                                    for e in seen), timeout=60_000)
        with qtbot.waitSignal(window.controller.orders_loaded, timeout=30_000) as loaded:
            window.controller.load_orders()
        assert {o.order_id for o in loaded.args[0]} >= {first, second}
        qtbot.waitUntil(lambda: window.controller.state == CONNECTED, timeout=20_000)
        assert "Connected" in window.connection.text()
        ids = [e.event_id for e in seen]
        assert len(ids) == len(set(ids)), "an event came twice"
        types = [e.type for e in seen if e.order_id == second]
        assert types[0] == "Order_Created" and types[-1] == "Order_Assigned"
    finally:
        window.close()
        client.close()
