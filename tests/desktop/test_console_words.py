"""The console in the warehouse's words, against a real tote serve: filters offer "All", no RPC
names on screen, routing's choice said once, the header shows what a short pick left to charge,
and selecting a packed order previews its label."""

from __future__ import annotations

import re
import uuid

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QLabel

from desktop.models import RoutingModel
from desktop.order_detail import routing_sentence
from labels import format_amount
from tests.desktop.conftest import screenshot
from tests.harness import cod
from tests.integration.test_shipping import pick_and_pack, picker, ready_order
from tote.v1 import common_pb2, fulfillment_pb2

pytestmark = pytest.mark.qt

ALL = "All"  # what a filter offers for "no filter"

DEVELOPER_WORDS = re.compile(r"\b(Get|List|Explain|Watch|Record)[A-Z]\w+|\bRPC\b|gRPC")


def texts_on_screen(window) -> list[str]:  # type: ignore[no-untyped-def]
    """Every label's text, the chart's title and the tabs' names."""
    found = [w.text() for w in window.findChildren(QLabel)]
    found.append(window.dashboard.chart.getPlotItem().titleLabel.text)
    found += [window.tabs.tabText(i) for i in range(window.tabs.count())]
    return found


def select(qtbot, console, order_id: str) -> None:  # type: ignore[no-untyped-def]
    view = console.orders
    console.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.select_order(order_id), timeout=15_000)


def test_filters_offer_all_and_the_screen_has_no_rpc_names(qtbot, console, tote, admin, shop):  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    order, _ = ready_order(tote, admin, shop, cod(), units=1)
    view = console.orders
    boxes = (view.status_box, view.fc_filter, view.payment_box)
    assert [b.currentText() for b in boxes] == [ALL, ALL, ALL]
    qtbot.waitUntil(lambda: view.select_order(order.order_id), timeout=15_000)
    shown = view.proxy.rowCount()
    view.status_box.setCurrentText("CANCELLED")
    assert view.proxy.rowCount() < shown
    view.status_box.setCurrentText(ALL)
    assert view.proxy.rowCount() == shown
    qtbot.waitUntil(lambda: view.fc_filter.findText("FC-BLR") > 0, timeout=15_000)
    assert view.fc_filter.itemText(0) == ALL

    console.tabs.setCurrentWidget(console.dashboard)
    assert console.dashboard.chart.getPlotItem().titleLabel.text.startswith("Orders per hour")
    screenshot(console, "floor_in_warehouse_words")
    console.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.detail.routing_note.text() != "", timeout=15_000)
    assert [t for t in texts_on_screen(console) if DEVELOPER_WORDS.search(t)] == []


def test_routing_says_once_where_the_order_ships_from_and_why(qtbot, console, tote, admin, shop):  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    order, _ = ready_order(tote, admin, shop, cod(), units=1)
    select(qtbot, console, order.order_id)
    note = console.orders.detail.routing_note
    qtbot.waitUntil(lambda: note.text() != "", timeout=15_000)
    assert note.text() == "Ships from FC-BLR: the only fulfillment center"
    routing = console.orders.detail.routing
    qtbot.waitUntil(lambda: routing.rowCount() == 1, timeout=15_000)
    # its row says what it says about the FC, not the choice again
    reason = routing.index(0, RoutingModel.COL_REASON).data()
    assert reason.startswith("FC-BLR: has every line; ") and "chosen" not in reason


def test_after_a_short_pick_the_header_shows_what_is_charged_now(qtbot, console, tote, admin, shop):  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    order, sku = ready_order(tote, admin, shop, cod(), units=2)  # the SKU is at FC-BLR only
    _pick_one_and_report_one_short(tote, order.order_id, sku)
    placed = order.total.amount_minor
    due = placed - 49_900  # one unit at ₹499.00 is in no FC's stock: not charged

    select(qtbot, console, order.order_id)
    detail = console.orders.detail
    expected = f"{format_amount(due, 'INR')} to charge (placed {format_amount(placed, 'INR')})"
    qtbot.waitUntil(lambda: detail.total.text() == expected, timeout=15_000)
    assert f" · 1× {sku} (1 out of stock, not charged) · FC FC-BLR" in detail.summary.text()
    qtbot.waitUntil(lambda: detail.routing.rowCount() > 0 and detail.events.rowCount() > 0,
                    timeout=15_000)
    screenshot(console, "order_after_a_short_pick")

    # Packed, the payment says the same: cash on delivery is due for what ships.
    pick_and_pack(tote, order.order_id, units=1)
    packed = shop.wait_status(order.order_id, {common_pb2.ORDER_STATUS_PACKED})
    assert packed.total.amount_minor == placed  # the placed total, as the contract says
    qtbot.waitUntil(lambda: "PACKED" in detail.title.text(), timeout=15_000)
    assert detail.total.text() == expected


def test_selecting_a_packed_order_previews_its_label(qtbot, console, tote, admin, shop):  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    order, _ = ready_order(tote, admin, shop, cod(), units=1)
    tracking = pick_and_pack(tote, order.order_id, units=1)
    view = console.labels
    console.tabs.setCurrentWidget(view)
    console.refresh()

    def row() -> int:
        ids = [view.wave.row_at(r).order_id for r in range(view.wave.rowCount())]
        return ids.index(order.order_id) if order.order_id in ids else -1

    qtbot.waitUntil(lambda: row() >= 0, timeout=15_000)
    with qtbot.waitSignal(console.controller.label_loaded, timeout=15_000) as loaded:
        view.wave_table.selectionModel().select(
            view.wave.index(row(), 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
    assert loaded.args[0] == order.order_id and loaded.args[1].tracking_number == tracking
    assert view.result.text() == f"{order.order_id}: label {tracking}, 1 page(s)"
    assert view.pane.print_button.isEnabled()
    screenshot(console, "label_previewed_on_selection")


# -- helpers -------------------------------------------------------------------------------------

def _pick_one_and_report_one_short(tote, order_id: str, sku: str) -> None:  # type: ignore[no-untyped-def]
    """The picker finds one unit of the order's line and reports the other missing."""
    client = picker(tote)
    while True:
        task = client.fulfillment.NextPickTask(fulfillment_pb2.NextPickTaskRequest(
            fc_id="FC-BLR"), metadata=client.metadata)
        for line in task.lines:
            mine = line.order_id == order_id
            for _ in range(1 if mine else line.quantity - line.picked):
                client.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                    task_id=task.task_id, barcode=line.gtin, scan_id=uuid.uuid4().hex),
                    metadata=client.metadata)
            if mine:
                assert line.sku == sku
                client.fulfillment.ReportShortPick(fulfillment_pb2.ReportShortPickRequest(
                    task_id=task.task_id, line_id=line.line_id, missing=1),
                    metadata=client.metadata)
                return


@pytest.mark.parametrize(("reason", "sentence"), [
    ("chosen: the only fulfillment center; FC-BLR: has every line; 3 km away",
     "Ships from FC-BLR: the only fulfillment center"),
    ("chosen because it is nearer (3 km against 340 km for FC-DEL); FC-BLR: has every line",
     "Ships from FC-BLR because it is nearer (3 km against 340 km for FC-DEL)"),
    ("split into 2 shipments because no fulfillment center has every line (1×A from FC-BLR, "
     "1×B from FC-DEL); best-scored FCs first; FC-BLR: lacks B (needs 1, has 0)",
     "Ships from FC-BLR: split into 2 shipments because no fulfillment center has every line "
     "(1×A from FC-BLR, 1×B from FC-DEL); best-scored FCs first"),
    ("assigned by floor-lead over routing's choice of FC-DEL; FC-BLR: has every line",
     "Ships from FC-BLR: assigned by floor-lead over routing's choice of FC-DEL"),
    ("", "Ships from FC-BLR"),
])
def test_routings_choice_reads_as_one_sentence(reason, sentence):  # type: ignore[no-untyped-def]
    assert routing_sentence("FC-BLR", reason) == sentence
