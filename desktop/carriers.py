"""The carrier chooser: carriers seen on orders and remembered from hand-offs and remittances."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QComboBox, QLineEdit, QSizePolicy, QWidget

from tote.v1 import common_pb2


def carriers_of(orders: Iterable[common_pb2.Order]) -> set[str]:
    """Every carrier an order or one of its parcels is booked with."""
    names = set()
    for o in orders:
        names.add(o.carrier)
        names.update(s.carrier for s in o.shipments)
    names.discard("")
    return names


class CarrierBox(QComboBox):
    """A combo box of the known carriers; a new carrier's name may still be typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.entry().setPlaceholderText("Carrier")
        self.setMinimumContentsLength(10)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def entry(self) -> QLineEdit:
        """Where a carrier's name is typed (there is one: the box is editable)."""
        edit = self.lineEdit()
        assert edit is not None
        return edit

    def carriers(self) -> list[str]:
        return [self.itemText(i) for i in range(self.count())]

    def add_carriers(self, names: Iterable[str]) -> None:
        """Merges names into the list (sorted); what is chosen or typed stays as it is."""
        merged = sorted(set(self.carriers()) | {n.strip() for n in names if n.strip()})
        if merged == self.carriers():
            return
        text = self.currentText()
        self.blockSignals(True)
        self.clear()
        self.addItems(merged)
        self.setCurrentIndex(self.findText(text) if text else -1)
        self.setEditText(text)
        self.blockSignals(False)
        if not text and merged:  # nothing chosen yet: the first known carrier
            self.setCurrentIndex(0)

    def carrier(self) -> str:
        return self.currentText().strip()
