"""Orders: the filterable table (live from WatchOrders) and one order's detail."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.controller import ConsoleController
from desktop.models import (
    EventsModel,
    OrdersFilter,
    OrdersModel,
    RoutingModel,
    money,
    status_name,
)
from tote.v1 import common_pb2

STATUSES = [status_name(s) for s in common_pb2.OrderStatus.values()
            if s != common_pb2.ORDER_STATUS_UNSPECIFIED]
# The server reassigns an order only while it is PROCESSING (before picking starts).
ASSIGNABLE = {common_pb2.ORDER_STATUS_PROCESSING}


def table(model: Any) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.setWordWrap(False)  # long cells elide; the whole text is in the tooltip
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class OrderDetail(QWidget):
    """An order's payment state, routing explanation, event timeline, and Assign."""

    assign_requested = Signal(str, str)  # order_id, fc_id (before confirmation)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.order: common_pb2.Order | None = None
        self.title = QLabel("Select an order")
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.summary = QLabel("")
        self.payment = QLabel("")
        # Long lines wrap: unwrapped, an order's text would widen the window past the screen.
        for label in (self.title, self.summary, self.payment):
            label.setWordWrap(True)
        self.routing_note = QLabel("")
        self.routing_note.setWordWrap(True)
        # A wrapped label is squeezed by the tables under it unless it asks for its lines.
        self.routing_note.setMinimumHeight(self.routing_note.fontMetrics().lineSpacing() * 4)
        self.events = EventsModel(self)
        self.routing = RoutingModel(self)
        self.events_view = table(self.events)
        self.routing_view = table(self.routing)
        header = self.routing_view.horizontalHeader()
        header.setSectionResizeMode(RoutingModel.COL_FACTORS, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(RoutingModel.COL_FACTORS, 300)
        self.fc_box = QComboBox()
        self.fc_box.setMinimumWidth(120)
        self._fc_chosen = False  # the supervisor picked an FC for this order
        self.fc_box.activated.connect(self._fc_activated)
        self.assign_button = QPushButton("Assign to FC…")
        self.assign_button.setEnabled(False)
        self.assign_button.clicked.connect(self._assign_clicked)

        form = QFormLayout()
        form.addRow("Order", self.summary)
        form.addRow("Payment", self.payment)
        assign_row = QHBoxLayout()
        assign_row.addWidget(self.fc_box)
        assign_row.addWidget(self.assign_button)
        assign_row.addStretch(1)
        form.addRow("Fulfil from", assign_row)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(QLabel("Routing (ExplainRouting)"))
        layout.addWidget(self.routing_note)
        layout.addWidget(self.routing_view, 2)
        layout.addWidget(QLabel("Event timeline"))
        layout.addWidget(self.events_view, 3)

    def set_fcs(self, fc_ids: list[str]) -> None:
        current = self.fc_box.currentText()
        self.fc_box.clear()
        self.fc_box.addItems(fc_ids)
        # Keep the supervisor's choice; else start from where the order is now.
        if self.order is not None and not self._fc_chosen and self.order.fc_id in fc_ids:
            self.fc_box.setCurrentText(self.order.fc_id)
        elif current in fc_ids:
            self.fc_box.setCurrentText(current)

    def show_order(self, order: common_pb2.Order, new: bool) -> None:
        self.order = order
        if new:
            self._fc_chosen = False
            self.events.set_rows([])
            self.routing.set_rows([])
            self.routing_note.setText("")
        self.title.setText(f"{order.order_id} — {status_name(order.status)}")
        lines = ", ".join(f"{line.quantity}× {line.sku}" for line in order.lines)
        self.summary.setText(f"{order.customer_id} · {lines} · {money(order.total)} · "
                             f"FC {order.fc_id or '—'}"
                             + (f" · {order.carrier} {order.tracking_number}"
                                if order.tracking_number else ""))
        p = order.payment
        self.payment.setText(f"{p.method} — {p.state} (authorized {money(p.authorized)}"
                             f", captured {money(p.captured) or '0'})")
        self.assign_button.setEnabled(order.status in ASSIGNABLE)
        if order.fc_id and new and self.fc_box.findText(order.fc_id) >= 0:
            self.fc_box.setCurrentText(order.fc_id)

    def add_event(self, event: common_pb2.OrderEvent) -> None:
        if event.event_id not in {e.event_id for e in self.events.rows()}:
            self.events.set_rows([*self.events.rows(), event])

    def show_routing(self, decision: Any) -> None:
        self.routing.chosen_fc_id = decision.chosen_fc_id
        self.routing.set_rows(sorted(decision.candidates, key=lambda c: -c.score))
        winner = next((c for c in decision.candidates if c.fc_id == decision.chosen_fc_id), None)
        self.routing_note.setText(
            f"Chosen: {decision.chosen_fc_id or '—'}"
            + (f" — {winner.reason}" if winner is not None and winner.reason else ""))

    @Slot(int)
    def _fc_activated(self, _index: int) -> None:
        self._fc_chosen = True

    @Slot()
    def _assign_clicked(self) -> None:
        if self.order is not None and self.fc_box.currentText():
            self.assign_requested.emit(self.order.order_id, self.fc_box.currentText())


class OrdersView(QWidget):
    """The orders table with its filters, beside the selected order's detail."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = OrdersModel(self)
        self.proxy = OrdersFilter(self)
        self.proxy.setSourceModel(self.model)
        self._orders: dict[str, common_pb2.Order] = {}
        self._pending_assign: tuple[str, str] | None = None

        self.search = QLineEdit(placeholderText="Search orders (Ctrl+F)")
        self.status_box = self._combo(["", *STATUSES], "status")
        self.fc_filter = self._combo([""], "fc_id")
        self.payment_box = self._combo(["", "card", "upi", "cod"], "payment")
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
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.detail = OrderDetail(self)
        self.detail.assign_requested.connect(self._confirm_assign)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.table)
        split.addWidget(left)
        split.addWidget(self.detail)
        split.setSizes([600, 680])
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        c = controller
        c.orders_loaded.connect(self.set_orders)
        c.order_changed.connect(self.update_order)
        c.order_event.connect(self.on_event)
        c.order_history_event.connect(self.on_history_event)
        c.routing_explained.connect(self.on_routing)
        c.fcs_loaded.connect(self.on_fcs)
        c.fc_stock_loaded.connect(self.on_fc_stock)
        c.assign_refused.connect(self.on_assign_refused)

    def _combo(self, items: list[str], name: str) -> QComboBox:
        box = QComboBox()
        box.setMinimumContentsLength(6)  # an empty FC list still leaves room to read an FC
        box.addItems(items)
        box.setProperty("filter_name", name)
        box.currentTextChanged.connect(self._combo_changed)
        return box

    @Slot(str)
    def _combo_changed(self, value: str) -> None:
        self.proxy.set_filter(**{self.sender().property("filter_name"): value})

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

    @Slot(object)
    def update_order(self, order: common_pb2.Order) -> None:
        self._orders[order.order_id] = order
        self._publish()
        if self.detail.order is not None and self.detail.order.order_id == order.order_id:
            self.detail.show_order(order, new=False)

    def _publish(self) -> None:
        self.model.set_rows(sorted(self._orders.values(), key=lambda o: o.order_id))
        fcs = sorted({o.fc_id for o in self._orders.values() if o.fc_id}
                     | {self.fc_filter.itemText(i) for i in range(1, self.fc_filter.count())})
        if fcs != [self.fc_filter.itemText(i) for i in range(1, self.fc_filter.count())]:
            current = self.fc_filter.currentText()
            self.fc_filter.blockSignals(True)
            self.fc_filter.clear()
            self.fc_filter.addItems(["", *fcs])
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
        if new:
            self.controller.watch_order(order_id)
            self.controller.explain_routing(order_id)
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
