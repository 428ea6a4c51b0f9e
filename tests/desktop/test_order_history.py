"""The console opens on every order in work and the newest page of history, whatever the
history's size, and loads older orders a page at a time (against a real tote serve, with pages
of five orders so that a few orders span several pages)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from desktop.client import ConsoleClient
from desktop.controller import ConsoleController
from desktop.dashboard_models import StatusCountsModel
from desktop.main_window import MainWindow
from desktop.models import OrdersModel
from tests.desktop.conftest import screenshot
from tests.desktop.test_orders_view import new_fc, processing_order
from tests.harness import Client, cod, unique
from tote.v1 import common_pb2

pytestmark = pytest.mark.qt
PAGE = 5
CANCELLED = common_pb2.ORDER_STATUS_CANCELLED


@pytest.fixture
def paged_console(qtbot, tote, supervisor_token, settings) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The main window over a client that lists five orders a page (not started)."""
    client = ConsoleClient(tote.grpc_address, supervisor_token, page_size=PAGE)
    window = MainWindow(ConsoleController(client), settings)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()
    client.close()


def cancelled_order(shop: Client, sku: str) -> common_pb2.Order:
    """An order of a SKU no FC has: cancelled out of stock, a finished order."""
    placed = shop.place([(sku, 1)], cod())
    order = shop.wait_status(placed.order_id, {CANCELLED})
    assert order.status == CANCELLED, common_pb2.OrderStatus.Name(order.status)
    return order


def loaded(window: MainWindow) -> set[str]:
    model = window.orders.model
    return {model.row_at(r).order_id for r in range(model.rowCount())}


def test_the_console_opens_on_the_orders_in_work_and_the_newest_page_then_loads_older_ones(
        qtbot, paged_console, admin, shop) -> None:  # type: ignore[no-untyped-def]
    sku = unique("HIST")
    admin.product(sku)
    admin.receive(new_fc(admin, 13.0), sku, 5)
    in_work = processing_order(shop, sku)  # the oldest order, still on the floor
    nowhere = unique("GONE")
    admin.product(nowhere)
    finished = [cancelled_order(shop, nowhere).order_id for _ in range(12)]  # oldest first
    window = paged_console
    view = window.orders
    window.tabs.setCurrentWidget(window.dashboard)
    with qtbot.waitSignal(window.controller.orders_loaded, timeout=30_000):
        window.start()

    # Thirteen orders, five a page (newest first): the newest page, and the order in work,
    # which is older than it; not the seven finished orders below the newest page.
    assert loaded(window) == {in_work.order_id, *finished[-PAGE:]}
    dashboard = window.dashboard
    counts = {dashboard.counts.index(r, 0).data(): dashboard.counts.index(
        r, StatusCountsModel.COL_ORDERS).data() for r in range(dashboard.counts.rowCount())}
    assert counts == {"PENDING": "0", "PROCESSING": "1", "PICKING": "0", "PACKED": "0"}
    assert dashboard.summary.text().startswith("1 order in work, ")
    screenshot(window, "floor_dashboard_paged")

    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(view.older_button.isEnabled, timeout=10_000)
    assert view.history_note.text().startswith("6 orders loaded: every order in work and the "
                                               "newest of the rest.")
    screenshot(window, "orders_newest_page")
    assert view.select_order(in_work.order_id)
    with qtbot.waitSignal(window.controller.older_orders_loaded, timeout=15_000):
        qtbot.mouseClick(view.older_button, Qt.MouseButton.LeftButton)
    assert view.selected_order_id() == in_work.order_id  # the supervisor's row stays selected
    assert loaded(window) == {in_work.order_id, *finished[-2 * PAGE:]}
    qtbot.waitUntil(view.older_button.isEnabled, timeout=10_000)  # one page is left

    # Scrolling the table to its end loads the next page (eleven rows scroll in a window
    # this high).
    window.resize(1000, 520)
    bar = view.table.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=5_000)
    with qtbot.waitSignal(window.controller.older_orders_loaded, timeout=15_000):
        view.table.scrollToBottom()
    assert loaded(window) == {in_work.order_id, *finished}
    # Newest first to the last row, orders placed in the same second too: the oldest order is
    # at the end, where scrolling loads older ones.
    assert [view.proxy.index(r, OrdersModel.COL_ID).data()
            for r in range(view.proxy.rowCount())] == [*reversed(finished), in_work.order_id]
    assert not view.older_button.isEnabled()
    assert view.older_button.text() == "No older orders"
    assert view.history_note.text() == "13 orders loaded: every order there is."
    screenshot(window, "orders_every_page_loaded")

    # F5 opens on the orders in work and the newest page again. (A shortcut reaches the
    # active window only: on a real X display without a window manager, none is until asked.)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    with qtbot.waitSignal(window.controller.orders_loaded, timeout=15_000):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert loaded(window) == {in_work.order_id, *finished[-PAGE:]}
    qtbot.waitUntil(view.older_button.isEnabled, timeout=10_000)


def test_every_order_in_work_is_listed_however_many_pages_each_status_spans(
        tote, supervisor_token, admin, shop) -> None:  # type: ignore[no-untyped-def]
    sku = unique("MANY")
    admin.product(sku)
    admin.receive(new_fc(admin, 14.0), sku, 20)
    in_work = {processing_order(shop, sku).order_id for _ in range(2 * PAGE + 1)}
    client = ConsoleClient(tote.grpc_address, supervisor_token, page_size=PAGE)
    try:
        listing = client.opening_orders()
    finally:
        client.close()
    assert in_work <= {o.order_id for o in listing.orders}
    assert listing.older_page_token  # eleven orders: more than the newest page
