"""Table models of the console: rows in, cells out. They never call gRPC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from labels.money import format_amount
from tote.v1 import common_pb2

Index = QModelIndex | QPersistentModelIndex


def status_name(status: int) -> str:
    """ORDER_STATUS_PACKED → 'PACKED'."""
    return common_pb2.OrderStatus.Name(status).removeprefix("ORDER_STATUS_")


def money(m: common_pb2.Money) -> str:
    """An amount as a person reads it (tote's one formatter), e.g. ₹2,541.00; '' when unset."""
    return format_amount(m.amount_minor, m.currency) if m.currency else ""


def timestamp(ts: Any) -> str:
    if not ts.seconds:
        return ""
    return datetime.fromtimestamp(ts.seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


class _RowsModel(QAbstractTableModel):
    """Rows with a key; set_rows() keeps selections when values changed or rows were added
    at the end."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def key(self, row: Any) -> Any:
        return id(row)

    def cell(self, row: Any, column: int) -> Any:
        raise KeyError(column)

    def set_rows(self, rows: Sequence[Any]) -> None:
        """The one way data comes in."""
        rows = list(rows)
        old_keys = [self.key(r) for r in self._rows]
        if old_keys and [self.key(r) for r in rows[:len(old_keys)]] == old_keys:
            # The same rows, maybe with more after them (a page of older orders, a new order):
            # inserted, not reset, so the views keep what is selected and current.
            if len(rows) > len(old_keys):
                self.beginInsertRows(QModelIndex(), len(old_keys), len(rows) - 1)
                self._rows = rows
                self.endInsertRows()
            self._rows = rows
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(old_keys) - 1, len(self.HEADERS) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def find(self, key: Any) -> int:
        """The row whose key is `key` (an order's id, …), or -1."""
        for i, row in enumerate(self._rows):
            if self.key(row) == key:
                return i
        return -1

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def rows(self) -> list[Any]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self.cell(row, index.column())
            return value if isinstance(value, str) else str(value)
        if role == Qt.ItemDataRole.UserRole:  # sorting by the raw value (numbers as numbers)
            return self.cell(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(
                self.cell(row, index.column()), int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class OrdersModel(_RowsModel):
    """Orders: one row per order."""

    COL_ID, COL_STATUS, COL_FC, COL_PAYMENT, COL_PAYMENT_STATE, COL_CUSTOMER, COL_TOTAL, \
        COL_CREATED = range(8)
    HEADERS = ("Order", "Status", "FC", "Payment", "Payment state", "Customer", "Total",
               "Created")

    def key(self, row: common_pb2.Order) -> str:
        return row.order_id

    def cell(self, o: common_pb2.Order, column: int) -> Any:
        return (o.order_id, status_name(o.status), o.fc_id, o.payment.method, o.payment.state,
                o.customer_id, money(o.total), timestamp(o.created_at))[column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.UserRole and index.isValid()
                and index.column() == self.COL_CREATED and index.row() < len(self._rows)):
            # Sorted by the instant, then the id (a ULID: placing order), not by the second
            # shown: newest first holds to the last row, where older orders are loaded.
            o = self._rows[index.row()]
            return f"{o.created_at.seconds:012d}.{o.created_at.nanos:09d}.{o.order_id}"
        return super().data(index, role)


class OrdersFilter(QSortFilterProxyModel):
    """Filters orders by status, FC, payment method, customer and free text."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.status = self.fc_id = self.payment = self.customer = self.text = ""
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def set_filter(self, **kw: str) -> None:
        """Any of status, fc_id, payment, customer, text (empty: no filter)."""
        self.beginFilterChange()
        for name, value in kw.items():
            if name not in ("status", "fc_id", "payment", "customer", "text"):
                raise TypeError(name)
            setattr(self, name, value.strip())
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, OrdersModel) or source_row >= model.rowCount():
            return True
        o = model.row_at(source_row)
        if self.status and status_name(o.status) != self.status:
            return False
        if self.fc_id and o.fc_id != self.fc_id:
            return False
        if self.payment and o.payment.method != self.payment:
            return False
        if self.customer and self.customer.lower() not in o.customer_id.lower():
            return False
        if self.text:
            haystack = " ".join(str(model.cell(o, c)) for c in range(len(model.HEADERS)))
            haystack += " " + " ".join(line.sku for line in o.lines) + " " + o.tracking_number
            return self.text.lower() in haystack.lower()
        return True


class EventsModel(_RowsModel):
    """An order's event timeline, oldest first."""

    COL_TIME, COL_TYPE, COL_STATUS, COL_DETAIL = range(4)
    HEADERS = ("When", "Event", "Status", "Detail")

    def key(self, row: common_pb2.OrderEvent) -> str:
        return row.event_id

    def cell(self, e: common_pb2.OrderEvent, column: int) -> Any:
        return (timestamp(e.occurred_at), e.type, status_name(e.status), e.detail)[column]


class RoutingModel(_RowsModel):
    """ExplainRouting's candidates: each FC's score and the factors behind it."""

    COL_FC, COL_SCORE, COL_FACTORS, COL_REASON = range(4)
    HEADERS = ("FC", "Score", "Factors", "Reason")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.chosen_fc_id = ""

    def key(self, row: Any) -> str:
        return row.fc_id

    def cell(self, c: Any, column: int) -> Any:
        factors = ", ".join(f"{k} {v:.2f}" for k, v in sorted(c.factors.items()))
        # The winner's reason opens with why it was chosen, which the note above the table
        # says; each row keeps what it says about its own FC.
        own = c.reason.find(f"{c.fc_id}: ")
        return (c.fc_id, round(c.score, 3), factors, c.reason[max(own, 0):])[column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.FontRole and index.isValid()
                and index.row() < len(self._rows)
                and self._rows[index.row()].fc_id == self.chosen_fc_id):
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return super().data(index, role)


class StockModel(_RowsModel):
    """Stock by FC × SKU."""

    COL_FC, COL_SKU, COL_ON_HAND, COL_SOFT, COL_HARD, COL_AVAILABLE = range(6)
    HEADERS = ("FC", "SKU", "On hand", "Soft locked", "Hard locked", "Available")

    def key(self, row: common_pb2.StockLevel) -> tuple[str, str]:
        return (row.fc_id, row.sku)

    def cell(self, s: common_pb2.StockLevel, column: int) -> Any:
        return (s.fc_id, s.sku, s.on_hand, s.soft_locked, s.hard_locked, s.available)[column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.BackgroundRole and index.isValid()
                and index.column() == self.COL_AVAILABLE and index.row() < len(self._rows)
                and self._rows[index.row()].available <= 0):
            return QBrush(QColor("#f8d7da"))  # nothing left to promise
        return super().data(index, role)


class WaveModel(_RowsModel):
    """PACKED orders waiting for the truck, whose labels print together."""

    COL_ID, COL_FC, COL_CARRIER, COL_TRACKING, COL_CUSTOMER = range(5)
    HEADERS = ("Order", "FC", "Carrier", "Tracking number", "Customer")

    def key(self, row: common_pb2.Order) -> str:
        return row.order_id

    def cell(self, o: common_pb2.Order, column: int) -> Any:
        # ListOrders carries no parcels: carrier and tracking number show once GetOrder read it.
        return (o.order_id, o.fc_id, o.carrier, o.tracking_number, o.customer_id)[column]
