"""Inventory: stock by FC × SKU (kept fresh as orders move stock), and receiving stock."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.controller import ConsoleController
from desktop.models import StockModel
from desktop.tables import table
from tote.v1 import common_pb2

# Events that never move stock; every other one (locks, releases, picks, re-routing, hand-off,
# cancellation, and types added later) asks for the stock again.
STILL_STOCK = frozenset({
    "Order_Created", "Payment_Authorized", "Payment_Failed", "Order_Ready_for_Fulfillment",
    "Payment_Captured", "Tracking_Updated", "Order_Out_for_Delivery", "Order_Delivered",
    "Payment_Voided",
    "Payment_Refunded", "Cod_Collected", "Cod_Remitted", "Payment_Settled"})
STOCK_AFTER_EVENT_MS = 1_500  # one GetStock for a burst of events (a saga step writes several)
STOCK_REFRESH_MS = 60_000  # stock received elsewhere moves no order: asked every minute too


class InventoryView(QWidget):
    """The stock table (filterable by text) and the Receive stock form."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = StockModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search = QLineEdit(placeholderText="Filter by FC or SKU (Ctrl+F)")
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = table(self.proxy)
        self.table.horizontalHeader().setStretchLastSection(False)  # numbers stay compact
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(StockModel.COL_FC, Qt.SortOrder.AscendingOrder)

        self.fc_box = QComboBox()
        self.fc_box.setMinimumWidth(110)
        self.sku = QLineEdit(placeholderText="SKU")
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 1_000_000)
        self.bin = QLineEdit("A-01-1")
        self.bin.setPlaceholderText("Bin")
        self.receive_button = QPushButton("Receive stock")
        self.receive_button.clicked.connect(self.receive)
        self.sku.returnPressed.connect(self.receive)
        self.result = QLabel("")

        form = QHBoxLayout()
        for label, widget in (("FC", self.fc_box), ("SKU", self.sku), ("Qty", self.quantity),
                              ("Bin", self.bin)):
            form.addWidget(QLabel(label))
            form.addWidget(widget)
        form.addWidget(self.receive_button)
        form.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Receive stock"))
        layout.addLayout(form)
        layout.addWidget(self.result)

        # Asked while the tab is shown; hidden, it only notes that the stock moved, and asks
        # when shown again.
        self.stale = False
        self.refresh_soon = QTimer(self, singleShot=True, interval=STOCK_AFTER_EVENT_MS)
        self.refresh_soon.timeout.connect(self.refresh_stock)
        self.refresh_timer = QTimer(self, interval=STOCK_REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh_stock)
        self.refresh_timer.start()
        controller.order_event.connect(self.on_event)
        controller.stock_loaded.connect(self.set_stock)
        controller.stock_received.connect(self.on_received)
        controller.receive_refused.connect(self.on_refused)
        controller.fcs_loaded.connect(self.on_fcs)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    @Slot(object)
    def on_event(self, event: common_pb2.OrderEvent) -> None:
        if event.type not in STILL_STOCK and not self.refresh_soon.isActive():
            self.refresh_soon.start()

    @Slot()
    def refresh_stock(self) -> None:
        """GetStock now if the tab is shown, else when it is shown next."""
        if self.isVisible():
            self.stale = False
            self.controller.load_stock()
        else:
            self.stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stale:
            self.refresh_stock()

    @Slot(list)
    def set_stock(self, levels: list[common_pb2.StockLevel]) -> None:
        self.model.set_rows(levels)

    @Slot(list)
    def on_fcs(self, fcs: list[common_pb2.FulfillmentCenter]) -> None:
        current = self.fc_box.currentText()
        self.fc_box.clear()
        self.fc_box.addItems([fc.fc_id for fc in fcs])
        if current:
            self.fc_box.setCurrentText(current)

    @Slot()
    def receive(self) -> None:
        fc_id, sku = self.fc_box.currentText(), self.sku.text().strip()
        if not fc_id or not sku:
            self.result.setText("Choose an FC and type a SKU.")
            return
        self.receive_button.setEnabled(False)
        self.result.setText(f"Receiving {self.quantity.value()} × {sku} at {fc_id}…")
        self.controller.receive_stock(fc_id, sku, self.quantity.value(), self.bin.text().strip())

    @Slot(object)
    def on_received(self, level: common_pb2.StockLevel) -> None:
        self.receive_button.setEnabled(True)
        self.result.setText(f"Received: {level.sku} at {level.fc_id} — on hand {level.on_hand}, "
                            f"available {level.available}")
        rows = {(r.fc_id, r.sku): r for r in self.model.rows()}
        rows[(level.fc_id, level.sku)] = level
        self.model.set_rows(sorted(rows.values(), key=lambda r: (r.fc_id, r.sku)))
        self.refresh_soon.start()  # an answer asked before the receipt must not stay on show

    @Slot(str)
    def on_refused(self, message: str) -> None:
        self.receive_button.setEnabled(True)
        self.result.setText(f"Refused — {message}")
