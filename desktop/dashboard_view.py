"""The floor dashboard: orders by status for one FC (or all), aging orders, orders per hour."""

from __future__ import annotations

import time
from typing import Any

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

from desktop import fc_choice
from desktop.client import changed_at
from desktop.controller import ConsoleController
from desktop.dashboard_models import (
    DONE,
    SERIES,
    AgingOrdersModel,
    StatusCountsModel,
    throughput_series,
)
from desktop.fc_choice import ALL_FCS
from desktop.tables import table
from tote.v1 import common_pb2

CHART_HOURS = 12
THROUGHPUT_REFRESH_MS = 60_000
THROUGHPUT_AFTER_EVENT_MS = 2_000
COLOURS = {"placed": "#4a7fb5", "packed": "#e0a030", "shipped": "#5aa469",
           "delivered": "#8e6bb8"}
BAR_WIDTH = 0.2


class DashboardView(QWidget):
    """Fed by the same signals as the orders table (ListOrders, then WatchOrders → GetOrder);
    it keeps the orders in work only, every one of which the console holds."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._orders: dict[str, common_pb2.Order] = {}
        self.throughput: dict[str, list[int]] = {name: [] for name in SERIES}
        self.throughput_fc: str | None = None  # the FC of the counts shown ("": every FC)
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
        self.chart = pg.PlotWidget(title=f"Orders per hour, last {CHART_HOURS} h")
        self.chart.setMinimumHeight(170)
        self.chart.showGrid(y=True, alpha=0.3)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.hideButtons()
        legend = self.chart.addLegend(offset=(8, 4), colCount=len(SERIES))
        self.bars: dict[str, pg.BarGraphItem] = {}
        self._offsets: dict[str, float] = {}  # each series' bar beside the others in its hour
        for i, name in enumerate(SERIES):
            bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=COLOURS[name],
                                   pen=None)
            self.chart.addItem(bars)
            legend.addItem(bars, name)
            self.bars[name] = bars
            self._offsets[name] = (i - (len(SERIES) - 1) / 2) * BAR_WIDTH
        self.chart_note = QLabel("")

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
        layout.addWidget(self.chart_note)

        controller.orders_loaded.connect(self.set_orders)
        controller.order_changed.connect(self.update_order)
        controller.fcs_loaded.connect(self.on_fcs)
        controller.throughput_loaded.connect(self.on_throughput)
        self.fc_box.currentTextChanged.connect(self.load_throughput)
        # The chart is the server's count (GetThroughput), asked again every minute and on F5.
        self.throughput_timer = QTimer(self)
        self.throughput_timer.setInterval(THROUGHPUT_REFRESH_MS)
        self.throughput_timer.timeout.connect(self.load_throughput)
        self.throughput_timer.start()
        # An order moving on the floor moves the chart: asked again a moment after (once for
        # a burst of changes).
        self._throughput_soon = QTimer(self, singleShot=True, interval=THROUGHPUT_AFTER_EVENT_MS)
        self._throughput_soon.timeout.connect(self.load_throughput)
        controller.order_changed.connect(lambda _order: self._throughput_soon.isActive()
                                         or self._throughput_soon.start())
        # Ages grow with the clock, not only with events.
        self.ticker = QTimer(self)
        self.ticker.setInterval(30_000)
        self.ticker.timeout.connect(self._changed)
        self.ticker.start()

    @Slot(list)
    def set_orders(self, orders: list[common_pb2.Order]) -> None:
        self._orders = {o.order_id: o for o in orders if o.status not in DONE}
        self._changed()

    @Slot(object)
    def update_order(self, order: common_pb2.Order) -> None:
        known = self._orders.get(order.order_id)
        if known is not None and changed_at(order) < changed_at(known):
            return  # an answer that crossed a newer one on its way back
        if order.status in DONE:  # finished: off the floor
            self._orders.pop(order.order_id, None)
        else:
            self._orders[order.order_id] = order
        self._changed()

    @Slot(list)
    def on_fcs(self, fcs: list[common_pb2.FulfillmentCenter]) -> None:
        fc_choice.fill(self.fc_box, fcs)

    def selected(self) -> list[common_pb2.Order]:
        fc = self.fc_box.currentText()
        return [o for o in self._orders.values()
                if fc_choice.at(o, fc)]

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
        noun = "order" if len(open_orders) == 1 else "orders"
        self.summary.setText(f"{len(open_orders)} {noun} in work, {aging} aging past "
                             f"{threshold} min (finished orders: the chart below)")

    def fc_id(self) -> str:
        """The FC chosen, or '' for every FC."""
        fc = self.fc_box.currentText()
        return "" if fc == ALL_FCS else fc

    @Slot()
    def load_throughput(self, *_args: object) -> None:
        self.controller.load_throughput(self.fc_id(), CHART_HOURS)

    @Slot(str, list)
    def on_throughput(self, fc_id: str, buckets: list[Any]) -> None:
        if fc_id != self.fc_id():  # an answer for the FC chosen before
            return
        self.throughput_fc = fc_id
        hours, self.throughput = throughput_series(buckets)
        for name, bars in self.bars.items():
            offset = self._offsets[name]
            bars.setOpts(x=[i + offset for i in range(len(hours))],
                         height=self.throughput[name], width=BAR_WIDTH)
        # Every other hour labelled, so the labels never overlap in a narrow window.
        self.chart.getAxis("bottom").setTicks([
            [(i, h) for i, h in enumerate(hours) if (len(hours) - 1 - i) % 2 == 0],
            [(i, "") for i in range(len(hours))]])
        self.chart.setXRange(-0.6, max(len(hours), 1) - 0.4, padding=0)
        top = max((max(v) for v in self.throughput.values() if v), default=0)
        self.chart.setYRange(0, max(top, 4) * 1.35, padding=0)  # room for the legend
        totals = ", ".join([*(f"{name} {sum(v)}" for name, v in self.throughput.items()),
                            f"cancelled {sum(b.cancelled for b in buckets)}"])
        self.chart_note.setText(f"Last {len(hours)} h{' at ' + fc_id if fc_id else ''}: "
                                f"{totals}")
