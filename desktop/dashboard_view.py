"""The floor dashboard: orders by status for one FC (or all), aging orders, orders per hour."""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.controller import ConsoleController
from desktop.dashboard_models import (
    DONE,
    AgingOrdersModel,
    StatusCountsModel,
    placed_per_hour,
)
from desktop.orders_view import table
from tote.v1 import common_pb2

ALL_FCS = "All FCs"
CHART_HOURS = 12


class DashboardView(QWidget):
    """Fed by the same signals as the orders table (ListOrders, then WatchOrders → GetOrder)."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._orders: dict[str, common_pb2.Order] = {}
        self.fc_box = QComboBox()
        self.fc_box.addItem(ALL_FCS)
        self.fc_box.setMinimumWidth(130)
        self.fc_box.currentTextChanged.connect(self._changed)
        self.threshold = QSpinBox()
        self.threshold.setRange(0, 7 * 24 * 60)
        self.threshold.setValue(60)
        self.threshold.setSuffix(" min")
        self.threshold.valueChanged.connect(self._changed)
        self.summary = QLabel("")

        self.counts = StatusCountsModel(self)
        self.aging = AgingOrdersModel(self)
        self.counts_view = table(self.counts)
        self.aging_view = table(self.aging)
        for view in (self.counts_view, self.aging_view):
            view.horizontalHeader().setStretchLastSection(False)  # numbers beside their labels

        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        self.chart = pg.PlotWidget(title=f"Orders placed per hour (last {CHART_HOURS} h)")
        self.chart.setMinimumHeight(200)
        self.chart.showGrid(y=True, alpha=0.3)
        self.chart.setLabel("bottom", "hours ago")
        self.bars = pg.BarGraphItem(x=list(range(CHART_HOURS)), height=[0] * CHART_HOURS,
                                    width=0.7, brush="#4a7fb5")
        self.chart.addItem(self.bars)
        self.chart.getAxis("bottom").setTicks(
            [[(i, str(CHART_HOURS - 1 - i)) for i in range(CHART_HOURS)]])

        controls = QHBoxLayout()
        controls.addWidget(QLabel("FC"))
        controls.addWidget(self.fc_box)
        controls.addWidget(QLabel("Aging after"))
        controls.addWidget(self.threshold)
        controls.addWidget(self.summary, 1)
        tables = QSplitter()
        tables.addWidget(self.counts_view)
        tables.addWidget(self.aging_view)
        tables.setSizes([360, 900])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(tables, 3)
        layout.addWidget(self.chart, 2)

        controller.orders_loaded.connect(self.set_orders)
        controller.order_changed.connect(self.update_order)
        controller.fcs_loaded.connect(self.on_fcs)
        # Ages grow with the clock, not only with events.
        self.ticker = QTimer(self)
        self.ticker.setInterval(30_000)
        self.ticker.timeout.connect(self._changed)
        self.ticker.start()

    @Slot(list)
    def set_orders(self, orders: list[common_pb2.Order]) -> None:
        self._orders = {o.order_id: o for o in orders}
        self._changed()

    @Slot(object)
    def update_order(self, order: common_pb2.Order) -> None:
        self._orders[order.order_id] = order
        self._changed()

    @Slot(list)
    def on_fcs(self, fcs: list[common_pb2.FulfillmentCenter]) -> None:
        current = self.fc_box.currentText()
        self.fc_box.blockSignals(True)
        self.fc_box.clear()
        self.fc_box.addItems([ALL_FCS, *[fc.fc_id for fc in fcs]])
        self.fc_box.setCurrentText(current)
        self.fc_box.blockSignals(False)

    def selected(self) -> list[common_pb2.Order]:
        fc = self.fc_box.currentText()
        return [o for o in self._orders.values()
                if fc == ALL_FCS or o.fc_id == fc or any(s.fc_id == fc for s in o.shipments)]

    @Slot()
    def _changed(self, *_args: object) -> None:
        now = time.time()
        orders = self.selected()
        threshold = self.threshold.value()
        self.counts.set_rows(StatusCountsModel.rows_for(orders, now, threshold))
        self.aging.now, self.aging.threshold_min = now, threshold
        open_orders = sorted((o for o in orders if o.status not in DONE),
                             key=lambda o: (o.created_at.seconds, o.order_id))
        self.aging.set_rows(open_orders)
        aging = sum(1 for r in range(self.aging.rowCount()) if self.aging.is_aging(r))
        self.summary.setText(f"{len(orders)} orders, {len(open_orders)} open, "
                             f"{aging} aging past {threshold} min")
        self.bars.setOpts(height=placed_per_hour(orders, now, CHART_HOURS))
