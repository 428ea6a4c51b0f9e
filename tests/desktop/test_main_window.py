"""The main window: shortcuts, remembered geometry, the connection state and server errors."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QApplication

from desktop.client import ConsoleClient
from desktop.controller import CONNECTED, ConsoleController
from desktop.main_window import MainWindow

pytestmark = pytest.mark.qt


def test_ctrl_f_focuses_the_search_of_the_current_view(qtbot, console) -> None:  # type: ignore[no-untyped-def]
    console.activateWindow()
    console.tabs.setCurrentWidget(console.orders)
    qtbot.waitUntil(lambda: console.controller.state == CONNECTED, timeout=10_000)
    console.find_action.trigger()
    assert QApplication.focusWidget() is console.orders.search
    console.tabs.setCurrentWidget(console.inventory)
    qtbot.keyClick(console, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is console.inventory.search
    assert console.refresh_action.shortcut().toString() == "F5"


def test_window_geometry_and_tab_are_remembered(qtbot, tote, supervisor_token, settings) -> None:  # type: ignore[no-untyped-def]
    def open_window() -> MainWindow:
        window = MainWindow(ConsoleController(ConsoleClient(tote.grpc_address,
                                                            supervisor_token)), settings)
        qtbot.addWidget(window)
        return window

    first = open_window()
    first.show()
    # Not the default size, and inside the offscreen 800×800 screen.
    size = first.minimumSizeHint() + QSize(10, 20)
    assert size.width() <= 800 and size != first.size()
    first.setGeometry(QRect(QPoint(5, 5), size))
    first.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: first.size() == size, timeout=5_000)
    first.close()
    second = open_window()
    assert second.size() == size
    assert second.tabs.currentIndex() == 1
    second.close()


def test_a_refused_token_shows_the_servers_message_and_disconnected_state(qtbot, tote,
                                                                          settings) -> None:  # type: ignore[no-untyped-def]
    client = ConsoleClient(tote.grpc_address, "not-a-token")
    window = MainWindow(ConsoleController(client), settings)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.controller.error, timeout=10_000) as error:
        window.controller.load_orders()
    assert error.args[0].startswith("UNAUTHENTICATED")
    assert window.statusBar().currentMessage().startswith("UNAUTHENTICATED")
    window.close()
    client.close()


def test_an_unreachable_server_shows_disconnected(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.harness import free_port

    client = ConsoleClient(f"127.0.0.1:{free_port()}", "t")
    window = MainWindow(ConsoleController(client), settings)
    qtbot.addWidget(window)
    window.show()
    assert "Connecting" in window.connection.text()
    window.controller.load_orders()
    qtbot.waitUntil(lambda: "Disconnected" in window.connection.text(), timeout=20_000)
    assert "UNAVAILABLE" in window.statusBar().currentMessage()
    window.close()
    client.close()


def test_every_tab_fits_an_800_by_600_screen(qtbot, console, admin, shop, tote) -> None:  # type: ignore[no-untyped-def]
    from tests.desktop.conftest import screenshot
    from tests.harness import cod
    from tests.integration.test_shipping import pick_and_pack, ready_order

    admin.fc("FC-BLR")
    order, _ = ready_order(tote, admin, shop, cod(), units=1)
    pick_and_pack(tote, order.order_id, units=1)
    qtbot.waitUntil(lambda: console.controller.state == CONNECTED, timeout=10_000)
    assert console.minimumSizeHint().width() <= 800 and console.minimumSizeHint().height() <= 600
    console.resize(800, 600)
    qtbot.waitUntil(lambda: console.size() == QSize(800, 600), timeout=5_000)
    qtbot.waitUntil(lambda: console.labels.wave.find(order.order_id) >= 0, timeout=15_000)
    console.orders.select_order(order.order_id)
    console.labels.order_id.setText(order.order_id)
    with qtbot.waitSignal(console.controller.label_loaded, timeout=10_000):
        console.labels.load()
    # The chart follows the floor: asked again shortly after the order moved.
    qtbot.waitUntil(lambda: console.dashboard.throughput["packed"][-1:] == [1], timeout=10_000)
    for i in range(console.tabs.count()):
        console.tabs.setCurrentIndex(i)
        view = console.tabs.currentWidget()
        # The label preview refits after a resize (a debounce): once it has, the sizes hold.
        QApplication.processEvents()  # the tab's show and resize events start the debounce
        qtbot.waitUntil(lambda: not any(p._refit.isActive() for p in (
            console.labels.pane, console.handoff.pane)), timeout=5_000)
        # The window did not grow past the screen, and nothing is squeezed below its needs.
        assert console.size() == QSize(800, 600), console.tabs.tabText(i)
        assert view.width() >= view.minimumSizeHint().width(), console.tabs.tabText(i)
        assert view.height() >= view.minimumSizeHint().height(), console.tabs.tabText(i)
        screenshot(console, f"800x600_{console.tabs.tabText(i).lower().replace('-', '')}")
