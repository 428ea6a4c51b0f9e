"""The inventory view against a real tote serve: stock by FC × SKU, and receiving stock."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from desktop.client import ConsoleClient
from desktop.controller import CONNECTED, ConsoleController
from desktop.main_window import MainWindow
from desktop.models import StockModel
from tests.desktop.conftest import screenshot
from tests.desktop.test_orders_view import new_fc, processing_order
from tests.harness import unique
from tote.v1 import common_pb2, orders_pb2

pytestmark = pytest.mark.qt
AFTER_EVENT_MS = 300


def stock_row(view, fc_id: str, sku: str) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    for r in range(view.model.rowCount()):
        cells = [view.model.index(r, c).data() for c in range(view.model.columnCount())]
        if cells[StockModel.COL_FC] == fc_id and cells[StockModel.COL_SKU] == sku:
            return dict(zip(StockModel.HEADERS, cells, strict=True))
    return None


def test_receiving_stock_changes_the_table_and_a_refusal_is_shown(qtbot, console, admin) -> None:  # type: ignore[no-untyped-def]
    sku = unique("RECV")
    admin.product(sku)
    admin.fc("FC-INV")
    admin.receive("FC-INV", sku, 3)
    console.tabs.setCurrentWidget(console.inventory)
    qtbot.waitUntil(lambda: console.controller.state == CONNECTED, timeout=10_000)
    view = console.inventory
    qtbot.keyClick(console, Qt.Key.Key_F5)  # the stock received since the window opened
    qtbot.waitUntil(lambda: stock_row(view, "FC-INV", sku) is not None
                    and view.fc_box.findText("FC-INV") >= 0, timeout=10_000)
    assert stock_row(view, "FC-INV", sku)["On hand"] == "3"  # type: ignore[index]

    view.fc_box.setCurrentText("FC-INV")
    view.sku.setText(sku)
    view.quantity.setValue(7)
    with qtbot.waitSignal(console.controller.stock_received, timeout=10_000):
        qtbot.mouseClick(view.receive_button, Qt.MouseButton.LeftButton)
    row = stock_row(view, "FC-INV", sku)
    assert row is not None and row["On hand"] == "10" and row["Available"] == "10"
    assert admin.stock(sku) == (10, 0, 10)
    assert "on hand 10" in view.result.text()

    view.search.setText(sku)
    assert view.proxy.rowCount() == 1
    screenshot(console, "inventory")

    # An unknown SKU: the server's message, and nothing changes.
    view.sku.setText("NO-SUCH-SKU")
    with qtbot.waitSignal(console.controller.receive_refused, timeout=10_000):
        qtbot.mouseClick(view.receive_button, Qt.MouseButton.LeftButton)
    assert view.result.text().startswith("Refused — NOT_FOUND")
    assert view.receive_button.isEnabled()


class StockCountingClient(ConsoleClient):
    """The real client, counting its GetStock calls."""

    def __init__(self, address: str, token: str) -> None:
        super().__init__(address, token)
        self.get_stock_calls = 0

    def get_stock(self, sku: str = "", fc_id: str = "") -> list[common_pb2.StockLevel]:
        self.get_stock_calls += 1
        return super().get_stock(sku, fc_id)


def test_the_stock_follows_the_floor_without_a_refresh_and_only_while_shown(
        qtbot, tote, supervisor_token, settings, admin, shop) -> None:  # type: ignore[no-untyped-def]
    client = StockCountingClient(tote.grpc_address, supervisor_token)
    window = MainWindow(ConsoleController(client), settings)
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentWidget(window.inventory)
    view, controller = window.inventory, window.controller
    view.refresh_soon.setInterval(AFTER_EVENT_MS)  # the debounce, shorter for the test
    try:
        sku = unique("MOVES")
        admin.product(sku)
        fc = new_fc(admin, 13.0)
        admin.receive(fc, sku, 3)
        window.start()
        qtbot.waitUntil(lambda: controller.state == CONNECTED
                        and stock_row(view, fc, sku) is not None, timeout=10_000)
        assert stock_row(view, fc, sku)["Available"] == "3"  # type: ignore[index]

        # An order soft-locks a unit: the table follows, no F5.
        order = processing_order(shop, sku)
        qtbot.waitUntil(lambda: stock_row(view, fc, sku)["Soft locked"] == "1",  # type: ignore[index]
                        timeout=10_000)
        assert stock_row(view, fc, sku)["Available"] == "2"  # type: ignore[index]

        # One GetStock for a burst of events; none for events that move no stock.
        qtbot.waitUntil(lambda: not view.refresh_soon.isActive() and not controller.busy(),
                        timeout=10_000)
        calls = client.get_stock_calls
        for i in range(10):
            controller.order_event.emit(common_pb2.OrderEvent(
                event_id=f"paid-{i}", order_id=order.order_id, type="Payment_Captured"))
        # (delivered on this thread: a refresh they asked for would be pending now)
        assert not view.refresh_soon.isActive()
        assert client.get_stock_calls == calls
        with qtbot.waitSignal(controller.stock_loaded, timeout=10_000):
            for i in range(20):
                controller.order_event.emit(common_pb2.OrderEvent(
                    event_id=f"pick-{i}", order_id=order.order_id, type="Item_Picked"))
            assert view.refresh_soon.isActive()
        qtbot.waitUntil(lambda: not controller.busy(), timeout=10_000)
        assert not view.refresh_soon.isActive()  # no second refresh pending
        assert client.get_stock_calls == calls + 1

        # Another tab shown: the stock moves (a cancellation releases the unit), nothing asked…
        window.tabs.setCurrentWidget(window.orders)
        calls = client.get_stock_calls
        shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=order.order_id,
                                                              reason="test"),
                                metadata=shop.metadata)
        qtbot.waitUntil(lambda: view.stale, timeout=10_000)
        assert client.get_stock_calls == calls
        assert stock_row(view, fc, sku)["Soft locked"] == "1"  # type: ignore[index]
        # … until the tab is shown again.
        window.tabs.setCurrentWidget(view)
        qtbot.waitUntil(lambda: stock_row(view, fc, sku)["Available"] == "3",  # type: ignore[index]
                        timeout=10_000)
        assert client.get_stock_calls == calls + 1 and not view.stale

        # Stock received by someone else moves no order: the minute's refresh brings it.
        view.refresh_timer.setInterval(200)
        admin.receive(fc, sku, 4)
        qtbot.waitUntil(lambda: stock_row(view, fc, sku)["On hand"] == "7",  # type: ignore[index]
                        timeout=10_000)
    finally:
        window.close()
        client.close()


def test_an_older_stock_answer_that_comes_last_is_not_shown(
        qtbot, tote, supervisor_token, admin) -> None:  # type: ignore[no-untyped-def]
    held = threading.Event()
    entered = threading.Event()  # the first call is in the client, held
    count = threading.Lock()

    class FirstCallHeld(ConsoleClient):
        calls = 0

        def get_stock(self, sku: str = "", fc_id: str = "") -> list[common_pb2.StockLevel]:
            with count:
                FirstCallHeld.calls += 1
                first = FirstCallHeld.calls == 1
            if first:
                entered.set()
                held.wait(10)
                return []  # what an old answer would say
            return super().get_stock(sku, fc_id)

    client = FirstCallHeld(tote.grpc_address, supervisor_token)
    controller = ConsoleController(client)
    shown: list[list[common_pb2.StockLevel]] = []
    controller.stock_loaded.connect(shown.append)
    try:
        sku = unique("LATE")
        admin.product(sku)
        admin.receive(new_fc(admin, 13.0), sku, 2)
        controller.load_stock()  # held
        assert entered.wait(10)  # (so the second call below is the newer one in the client too)
        with qtbot.waitSignal(controller.stock_loaded, timeout=10_000):
            controller.load_stock()  # answers first
        held.set()
        qtbot.waitUntil(lambda: not controller.busy(), timeout=10_000)
        assert len(shown) == 1 and sku in {lv.sku for lv in shown[0]}
    finally:
        held.set()
        controller.stop()
        client.close()
