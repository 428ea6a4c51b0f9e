"""Cancelling an order from the console against a real tote serve: confirmation, reason, refusal.

The slow-gateway case (CancelOrder waiting on the sandbox's void) is in test_responsiveness.py.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.cancel_dialog import CancelOrderDialog
from desktop.models import EventsModel, OrdersModel
from tests.desktop.conftest import screenshot
from tests.desktop.test_orders_view import new_fc, processing_order
from tests.harness import cod, unique
from tests.integration.test_shipping import pick_and_pack, ready_order
from tote.v1 import common_pb2

pytestmark = pytest.mark.qt
CANCELLED = common_pb2.ORDER_STATUS_CANCELLED


def dialog_open(view) -> bool:  # type: ignore[no-untyped-def]
    dialog = getattr(view, "cancel_confirmation", None)
    return dialog is not None and dialog.isVisible()


def test_an_order_is_cancelled_with_a_reason_after_a_confirmation(
        qtbot, console, admin, shop) -> None:  # type: ignore[no-untyped-def]
    sku = unique("CANCEL")
    admin.product(sku)
    admin.receive(new_fc(admin, 13.0), sku, 4)
    order = processing_order(shop, sku)
    view = console.orders
    console.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.select_order(order.order_id)
                    and view.detail.cancel_button.isEnabled(), timeout=15_000)
    assert view.cancel_action.isEnabled()
    assert view.cancel_action in console.menuBar().actions()[1].menu().actions()

    # From the Orders menu, on another tab: the Orders tab comes up with the confirmation.
    console.tabs.setCurrentWidget(console.inventory)
    view.cancel_action.trigger()
    assert console.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: dialog_open(view), timeout=5_000)
    dialog: CancelOrderDialog = view.cancel_confirmation
    assert order.order_id in dialog.text.text() and "cannot be undone" in dialog.text.text()
    assert not dialog.confirm_button.isEnabled()  # no reason yet
    qtbot.keyClicks(dialog.reason, "   ")
    assert not dialog.confirm_button.isEnabled()  # blanks are no reason
    # Keep order: nothing is sent.
    dialog.keep_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible() and not console.controller.busy(),
                    timeout=5_000)
    assert view.detail.cancel_note.text() == ""
    assert shop.get(order.order_id).status == common_pb2.ORDER_STATUS_PROCESSING

    # The button: a reason typed, then confirmed.
    qtbot.mouseClick(view.detail.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog_open(view) and view.cancel_confirmation is not dialog,
                    timeout=5_000)
    dialog = view.cancel_confirmation
    qtbot.keyClicks(dialog.reason, "customer called")
    assert dialog.confirm_button.isEnabled()
    screenshot(dialog, "cancel_confirmation")
    with qtbot.waitSignal(console.controller.order_cancelled, timeout=15_000) as cancelled:
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # Enter confirms once a reason is in
        assert not view.detail.cancel_button.isEnabled()  # not twice while in flight
        assert view.detail.cancel_note.text().startswith("Cancelling")
    reply = cancelled.args[0]
    assert reply.status == CANCELLED
    assert reply.cancel_reason == "cancelled by a supervisor: customer called"
    assert shop.get(order.order_id).status == CANCELLED

    # The table, the detail and its timeline follow; the action is gone for this order.
    row = view.model.find(order.order_id)
    assert view.model.index(row, OrdersModel.COL_STATUS).data() == "CANCELLED"
    assert view.detail.title.text() == f"{order.order_id} — CANCELLED"
    assert view.detail.cancelled.isVisible() and view.detail.cancelled.text() == \
        "cancelled by a supervisor: customer called"
    assert view.detail.cancel_note.text() == ""
    assert not view.detail.cancel_button.isEnabled() and not view.cancel_action.isEnabled()
    assert not view.detail.assign_button.isEnabled()
    qtbot.waitUntil(lambda: "Order_Cancelled" in {
        view.detail.events.index(r, EventsModel.COL_TYPE).data()
        for r in range(view.detail.events.rowCount())}, timeout=10_000)
    assert console.statusBar().currentMessage().startswith(f"Cancelled {order.order_id}")
    screenshot(console, "order_cancelled")


def test_a_refused_cancellation_shows_the_servers_message_and_changes_nothing(
        qtbot, console, tote, admin, shop) -> None:  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    order, _ = ready_order(tote, admin, shop, cod(), units=1)
    pick_and_pack(tote, order.order_id, units=1)
    view = console.orders
    console.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.model.find(order.order_id) >= 0 and view.model.index(
        view.model.find(order.order_id), OrdersModel.COL_STATUS).data() == "PACKED",
        timeout=15_000)
    view.select_order(order.order_id)
    # Packed: the console does not offer it…
    assert not view.detail.cancel_button.isEnabled() and not view.cancel_action.isEnabled()
    assert "not yet packed" in view.detail.cancel_button.toolTip()
    # … and when it is asked anyway (the order packed since the console last heard of it),
    # the server refuses and the console shows its message.
    view.request_cancel(order.order_id)
    qtbot.waitUntil(lambda: dialog_open(view), timeout=5_000)
    qtbot.keyClicks(view.cancel_confirmation.reason, "too late")
    with qtbot.waitSignal(console.controller.cancel_refused, timeout=15_000):
        view.cancel_confirmation.confirm_button.click()
    qtbot.waitUntil(lambda: getattr(view, "cancel_refusal", None) is not None
                    and view.cancel_refusal.isVisible(), timeout=5_000)
    text = view.cancel_refusal.text()
    assert "FAILED_PRECONDITION" in text
    assert "can be cancelled only before it is packed" in text
    assert console.statusBar().currentMessage().startswith(
        f"{order.order_id} not cancelled — FAILED_PRECONDITION")
    screenshot(view.cancel_refusal, "cancel_refused")
    view.cancel_refusal.button(QMessageBox.StandardButton.Ok).click()
    assert shop.get(order.order_id).status == common_pb2.ORDER_STATUS_PACKED
    assert view.detail.title.text() == f"{order.order_id} — PACKED"
    assert view.detail.cancel_note.text() == "" and not view.detail.cancelled.isVisible()
