"""Orders: the filterable table (live from WatchOrders) beside one order's detail."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.cancel_dialog import CancelOrderDialog
from desktop.client import changed_at
from desktop.controller import ConsoleController
from desktop.models import OrdersFilter, OrdersModel, status_name
from desktop.order_detail import OrderDetail
from desktop.order_messages import OrderMessages
from desktop.tables import table
from tote.v1 import common_pb2

STATUSES = [status_name(s) for s in common_pb2.OrderStatus.values()
            if s != common_pb2.ORDER_STATUS_UNSPECIFIED]
ALL = "All"  # a filter combo's first choice: no filter


class OrdersView(QWidget):
    """The orders table with its filters, beside the selected order's detail."""

    status_message = Signal(str)  # for the window's status bar

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = OrdersModel(self)
        self.proxy = OrdersFilter(self)
        self.proxy.setSourceModel(self.model)
        self._orders: dict[str, common_pb2.Order] = {}
        self._pending_assign: tuple[str, str] | None = None
        self._cancelling: set[str] = set()  # CancelOrder in flight
        # In the window's Orders menu too; enabled as the detail's button is.
        self.cancel_action = QAction("&Cancel order…", self)
        self.cancel_action.setStatusTip("Cancel the selected order (before it is packed)")
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(lambda: self.request_cancel())

        self.search = QLineEdit(placeholderText="Search orders (Ctrl+F)")
        self.status_box = self._combo([ALL, *STATUSES], "status")
        self.fc_filter = self._combo([ALL], "fc_id")
        self.payment_box = self._combo([ALL, "card", "upi", "cod"], "payment")
        self.customer = QLineEdit(placeholderText="Customer")
        self.search.textChanged.connect(self._text_changed)
        self.customer.textChanged.connect(self._customer_changed)

        # Two rows: on one, the text fields would be squeezed unreadable in a narrow window.
        filters = QVBoxLayout()
        texts = QHBoxLayout()
        texts.addWidget(self.search, 2)
        texts.addWidget(self.customer, 1)
        combos = QHBoxLayout()
        for label, widget in (("Status", self.status_box), ("FC", self.fc_filter),
                              ("Payment", self.payment_box)):
            combos.addWidget(QLabel(label))
            combos.addWidget(widget)
        combos.addStretch(1)
        filters.addLayout(texts)
        filters.addLayout(combos)

        self.table = table(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(OrdersModel.COL_CREATED, Qt.SortOrder.DescendingOrder)
        # The console holds every order in work and the newest of history; older orders come a
        # page at a time, at the table's end (newest first) or with the button.
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.history_note = QLabel("")
        self.history_note.setWordWrap(True)
        self.older_button = QPushButton("Load older orders")
        self.older_button.setEnabled(False)
        self.older_button.clicked.connect(controller.load_older)
        self._older_left = False
        history = QHBoxLayout()
        history.addWidget(self.history_note, 1)
        history.addWidget(self.older_button)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.detail = OrderDetail(self)
        self.detail.assign_requested.connect(self._confirm_assign)
        self.detail.cancel_requested.connect(self.request_cancel)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.table)
        left_layout.addLayout(history)
        split.addWidget(left)
        split.addWidget(self.detail)
        split.setSizes([600, 680])
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        c = controller
        c.orders_loaded.connect(self.set_orders)
        c.older_orders_loaded.connect(self.add_orders)
        c.history_changed.connect(self.on_history)
        c.order_changed.connect(self.update_order)
        c.order_event.connect(self.on_event)
        c.order_history_event.connect(self.on_history_event)
        c.routing_explained.connect(self.on_routing)
        c.fcs_loaded.connect(self.on_fcs)
        c.fc_stock_loaded.connect(self.on_fc_stock)
        c.assign_refused.connect(self.on_assign_refused)
        c.order_cancelled.connect(self.on_cancelled)
        c.cancel_refused.connect(self.on_cancel_refused)
        self.messages = OrderMessages(c, self.detail, self)  # what the customer was sent

    def _combo(self, items: list[str], name: str) -> QComboBox:
        box = QComboBox()
        box.setMinimumContentsLength(6)  # an empty FC list still leaves room to read an FC
        box.addItems(items)
        box.setProperty("filter_name", name)
        box.currentTextChanged.connect(self._combo_changed)
        return box

    @Slot(str)
    def _combo_changed(self, value: str) -> None:
        self.proxy.set_filter(**{self.sender().property("filter_name"):
                                 "" if value == ALL else value})

    @Slot(str)
    def _text_changed(self, value: str) -> None:
        self.proxy.set_filter(text=value)

    @Slot(str)
    def _customer_changed(self, value: str) -> None:
        self.proxy.set_filter(customer=value)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def selected_order_id(self) -> str:
        index = self.table.currentIndex()
        if not index.isValid():
            return ""
        return self.proxy.index(index.row(), OrdersModel.COL_ID).data()

    def select_order(self, order_id: str) -> bool:
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, OrdersModel.COL_ID).data() == order_id:
                self.table.selectRow(r)
                return True
        return False

    # -- from the controller --------------------------------------------------------------------

    @Slot(list)
    def set_orders(self, orders: list[common_pb2.Order]) -> None:
        self._orders = {o.order_id: o for o in orders}
        self._publish()

    @Slot(list)
    def add_orders(self, orders: list[common_pb2.Order]) -> None:
        """A page of older orders; an order the view already shows newer stays as it is."""
        for order in orders:
            known = self._orders.get(order.order_id)
            if known is None or changed_at(order) > changed_at(known):
                self._orders[order.order_id] = order
        self._publish()

    @Slot(bool, bool)
    def on_history(self, more: bool, loading: bool) -> None:
        """Older orders left to load (or not), a page on its way (or not)."""
        self._older_left = more
        self.older_button.setEnabled(more and not loading)
        self.older_button.setText("Loading older orders…" if loading else
                                  "Load older orders" if more else "No older orders")
        self._show_history()

    def _show_history(self) -> None:
        n = len(self._orders)
        loaded = f"{n} {'order' if n == 1 else 'orders'} loaded"
        if self._older_left:
            self.history_note.setText(f"{loaded}: every order in work and the newest of the "
                                      "rest. Filters and search see these. Older ones load at "
                                      "the table's end, or with the button.")
        else:
            self.history_note.setText(f"{loaded}: every order there is.")

    @Slot(int)
    def _scrolled(self, value: int) -> None:
        if value > 0 and value == self.table.verticalScrollBar().maximum():
            self.controller.load_older()

    @Slot(object)
    def update_order(self, order: common_pb2.Order) -> None:
        known = self._orders.get(order.order_id)
        if known is not None and changed_at(order) < changed_at(known):
            # An answer older than what the view shows: a GetOrder that crossed a change (a
            # cancel's own reply, say) on its way back. The newer order stays.
            return
        self._orders[order.order_id] = order
        self._publish()
        if self.detail.order is not None and self.detail.order.order_id == order.order_id:
            self.detail.show_order(order, new=False)
            self._sync_cancel_action()

    def _publish(self) -> None:
        # In the order the view learned of them (the table sorts): an order new to the view,
        # live or from an older page, is a row added at the end, and the selection stays.
        self.model.set_rows(list(self._orders.values()))
        self._show_history()
        fcs = sorted({o.fc_id for o in self._orders.values() if o.fc_id}
                     | {self.fc_filter.itemText(i) for i in range(1, self.fc_filter.count())})
        if fcs != [self.fc_filter.itemText(i) for i in range(1, self.fc_filter.count())]:
            current = self.fc_filter.currentText()
            self.fc_filter.blockSignals(True)
            self.fc_filter.clear()
            self.fc_filter.addItems([ALL, *fcs])
            self.fc_filter.setCurrentText(current)
            self.fc_filter.blockSignals(False)

    @Slot(object)
    def on_event(self, event: common_pb2.OrderEvent) -> None:
        # The event says what happened; the order itself (FC, payment) comes from GetOrder.
        self.controller.refresh_order(event.order_id)

    @Slot(str, object)
    def on_history_event(self, order_id: str, event: common_pb2.OrderEvent) -> None:
        if self.detail.order is not None and self.detail.order.order_id == order_id:
            self.detail.add_event(event)
            self.messages.event_arrived()

    def load_messages(self) -> None:
        """The shown order's customer messages, read again (F5)."""
        self.messages.load()

    @Slot(str, object)
    def on_routing(self, order_id: str, decision: Any) -> None:
        if self.detail.order is not None and self.detail.order.order_id == order_id:
            self.detail.show_routing(decision)

    @Slot(list)
    def on_fcs(self, fcs: list[common_pb2.FulfillmentCenter]) -> None:
        self.detail.set_fcs([fc.fc_id for fc in fcs])

    def _row_changed(self, current: Any, _previous: Any) -> None:
        order_id = self.selected_order_id()
        if not order_id or order_id not in self._orders:
            return
        new = self.detail.order is None or self.detail.order.order_id != order_id
        self.detail.show_order(self._orders[order_id], new=new)
        if new and order_id in self._cancelling:
            self.detail.set_cancelling(True)
        self._sync_cancel_action()
        if new:
            # The listed order carries no parcels: GetOrder's has them, and with them what a
            # short pick took off the bill (the header shows what is charged now).
            self.controller.refresh_order(order_id)
            self.controller.watch_order(order_id)
            self.controller.explain_routing(order_id)
            self.messages.order_selected()
            self.controller.load_fcs()  # FCs opened since the last look are choices too

    # -- assignment -----------------------------------------------------------------------------

    @Slot(str, str)
    def _confirm_assign(self, order_id: str, fc_id: str) -> None:
        """First the stock at that FC (off the GUI thread), then the confirmation."""
        self._pending_assign = (order_id, fc_id)
        self.controller.load_fc_stock(order_id, fc_id)

    @Slot(str, str, list)
    def on_fc_stock(self, order_id: str, fc_id: str, levels: list[Any]) -> None:
        if self._pending_assign != (order_id, fc_id):
            return
        self._pending_assign = None
        order = self._orders.get(order_id)
        by_sku = {lv.sku: lv for lv in levels}
        rows = []
        for line in order.lines if order is not None else []:
            lv = by_sku.get(line.sku)
            have = lv.available if lv is not None else 0
            mark = "" if have >= line.quantity else f" — short by {line.quantity - have}"
            rows.append(f"{line.sku}: needs {line.quantity}, available {have}"
                        f" (on hand {lv.on_hand if lv is not None else 0}){mark}")
        box = QMessageBox(QMessageBox.Icon.Question, "Assign order",
                          f"Assign {order_id} to {fc_id}?\n\nStock at {fc_id}:\n"
                          + "\n".join(rows or ["(no lines)"]),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setObjectName("assign_confirmation")
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        self.confirmation = box
        box.finished.connect(self._confirmation_finished)
        box.setProperty("order_id", order_id)
        box.setProperty("fc_id", fc_id)
        box.open()

    @Slot(int)
    def _confirmation_finished(self, result: int) -> None:
        box = self.confirmation
        if result == QMessageBox.StandardButton.Yes:
            self.controller.assign_order(box.property("order_id"), box.property("fc_id"))

    @Slot(str, str)
    def on_assign_refused(self, order_id: str, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Assignment refused",
                          f"The server refused to assign {order_id}:\n{message}",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("assign_refused")
        self.refusal = box
        box.open()

    # -- cancellation ---------------------------------------------------------------------------

    def _sync_cancel_action(self) -> None:
        self.cancel_action.setEnabled(self.detail.can_cancel())

    @Slot()
    def request_cancel(self, order_id: str = "") -> None:
        """The confirmation (with a reason) for the order, the selected one by default.

        The server judges: an order packed since the console last heard of it is refused,
        and the refusal is shown.
        """
        order_id = order_id or (self.detail.order.order_id if self.detail.order else "")
        order = self._orders.get(order_id)
        if order is None or order_id in self._cancelling:
            return
        dialog = CancelOrderDialog(order, self)
        self.cancel_confirmation = dialog
        dialog.accepted.connect(lambda: self._cancel_confirmed(order_id, dialog.reason_text()))
        dialog.open()
        dialog.reason.setFocus()

    def _cancel_confirmed(self, order_id: str, reason: str) -> None:
        self._cancelling.add(order_id)
        if self.detail.order is not None and self.detail.order.order_id == order_id:
            self.detail.set_cancelling(True)
            self._sync_cancel_action()
        self.status_message.emit(f"Cancelling {order_id}: the payment is voided at the "
                                 "gateway first…")
        self.controller.cancel_order(order_id, reason)

    def _cancel_ended(self, order_id: str) -> None:
        self._cancelling.discard(order_id)
        if self.detail.order is not None and self.detail.order.order_id == order_id:
            self.detail.set_cancelling(False)
            self._sync_cancel_action()

    @Slot(object)
    def on_cancelled(self, order: common_pb2.Order) -> None:
        self._cancel_ended(order.order_id)  # the order itself follows (order_changed)
        self.status_message.emit(f"Cancelled {order.order_id} — payment {order.payment.state}")

    @Slot(str, str)
    def on_cancel_refused(self, order_id: str, message: str) -> None:
        self._cancel_ended(order_id)
        self.status_message.emit(f"{order_id} not cancelled — {message}")
        box = QMessageBox(QMessageBox.Icon.Warning, "Cancellation refused",
                          f"The server refused to cancel {order_id}:\n{message}",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("cancel_refused")
        self.cancel_refusal = box
        box.open()
