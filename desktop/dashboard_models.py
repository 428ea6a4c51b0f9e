"""The floor dashboard's models: orders by status, and open orders by age. No gRPC here."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from desktop.models import Index, _RowsModel, status_name
from tote.v1 import common_pb2

DONE = {common_pb2.ORDER_STATUS_SHIPPED, common_pb2.ORDER_STATUS_DELIVERED,
        common_pb2.ORDER_STATUS_CANCELLED}
FLOW = [s for s in common_pb2.OrderStatus.values() if s != common_pb2.ORDER_STATUS_UNSPECIFIED]
# The statuses the floor works on. The console holds every order in them (and only the newest
# finished ones), so these are the statuses it can count.
IN_WORK = [s for s in FLOW if s not in DONE]
AGING = QColor("#ffe08a")


def age_minutes(order: common_pb2.Order, now: float) -> int:
    return max(0, int((now - order.created_at.seconds) // 60)) if order.created_at.seconds else 0


SERIES = ("placed", "packed", "shipped", "delivered")


def throughput_series(buckets: Sequence[Any], tz: tzinfo | None = None
                      ) -> tuple[list[str], dict[str, list[int]]]:
    """GetThroughput's buckets (oldest first) as hour labels ('14:00'; local time unless tz)
    and one count per hour for each of placed, packed, shipped and delivered."""
    hours = [datetime.fromtimestamp(b.hour_start.seconds, tz).strftime("%H:00")
             for b in buckets]
    return hours, {name: [int(getattr(b, name)) for b in buckets] for name in SERIES}


class StatusCountsModel(_RowsModel):
    """One row per status in work: how many orders, and how many of them are aging."""

    COL_STATUS, COL_ORDERS, COL_AGING = range(3)
    HEADERS = ("Status", "Orders", "Aging")

    def key(self, row: tuple[int, int, int]) -> int:
        return row[0]

    def cell(self, row: tuple[int, int, int], column: int) -> Any:
        return (status_name(row[0]), row[1], row[2])[column]

    @staticmethod
    def rows_for(orders: Sequence[common_pb2.Order], now: float, threshold_min: int
                 ) -> list[tuple[int, int, int]]:
        """(status, orders, aging) for each status in work, in the order of the flow.

        Finished orders (shipped, delivered, cancelled) are not counted: the console holds only
        the newest of them; the chart has the server's counts of them per hour.
        """
        counts: Counter[int] = Counter(o.status for o in orders)
        aging: Counter[int] = Counter(o.status for o in orders if o.status not in DONE
                        and age_minutes(o, now) >= threshold_min)
        return [(s, counts[s], aging[s]) for s in IN_WORK]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.BackgroundRole and index.isValid()
                and index.row() < len(self._rows) and self._rows[index.row()][2] > 0):
            return QBrush(AGING)
        return super().data(index, role)


class AgingOrdersModel(_RowsModel):
    """Open orders (not shipped, delivered or cancelled), oldest first; the aging ones marked."""

    COL_ID, COL_STATUS, COL_FC, COL_AGE = range(4)
    HEADERS = ("Order", "Status", "FC", "Age (min)")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.threshold_min = 60
        self.now = time.time()

    def key(self, row: common_pb2.Order) -> str:
        return row.order_id

    def cell(self, o: common_pb2.Order, column: int) -> Any:
        return (o.order_id, status_name(o.status), o.fc_id, age_minutes(o, self.now))[column]

    def is_aging(self, row: int) -> bool:
        return age_minutes(self._rows[row], self.now) >= self.threshold_min

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.BackgroundRole and index.isValid()
                and index.row() < len(self._rows) and self.is_aging(index.row())):
            return QBrush(AGING)
        return super().data(index, role)
