"""Carrier hand-off: scan parcels onto a manifest, then HandOff (the orders become SHIPPED)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.controller import ConsoleController
from desktop.models import _RowsModel
from desktop.orders_view import table


class ManifestModel(_RowsModel):
    """Parcels scanned onto the open manifest, in scan order."""

    COL_TRACKING, COL_FC, COL_CARRIER, COL_STATUS = range(4)
    HEADERS = ("Tracking number", "FC", "Carrier", "Parcel status")

    def key(self, row: Any) -> str:
        return row.tracking_number

    def cell(self, p: Any, column: int) -> Any:
        return (p.tracking_number, p.fc_id, p.carrier, p.status)[column]


class HandOffView(QWidget):
    """A scanner types into the scan field and presses Enter; each parcel is checked first."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.carrier = QLineEdit("sandbox")
        self.carrier.setPlaceholderText("Carrier")
        self.scan = QLineEdit(placeholderText="Scan a parcel's tracking barcode")
        self.scan.returnPressed.connect(self.scanned)
        self.model = ManifestModel(self)
        self.table = table(self.model)
        self.flags = QListWidget()
        self.flags.setMaximumHeight(110)
        self.flags.setStyleSheet("color: #b02a37")
        self.close_button = QPushButton("Close manifest and hand off")
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self.close_manifest)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.result = QLabel("")
        self._checking: set[str] = set()

        top = QHBoxLayout()
        top.addWidget(QLabel("Carrier"))
        top.addWidget(self.carrier)
        top.addWidget(QLabel("Scan"))
        top.addWidget(self.scan, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("Manifest"))
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Flagged scans (not added)"))
        layout.addWidget(self.flags)
        layout.addLayout(buttons)
        layout.addWidget(self.result)

        controller.parcel_looked_up.connect(self.on_parcel)
        controller.handed_off.connect(self.on_handed_off)
        controller.hand_off_refused.connect(self.on_refused)

    def flag(self, tracking: str, why: str) -> None:
        self.flags.insertItem(0, f"{tracking}: {why}")

    def on_manifest(self) -> set[str]:
        return {p.tracking_number for p in self.model.rows()}

    @Slot()
    def scanned(self) -> None:
        tracking = self.scan.text().strip()
        self.scan.clear()
        if not tracking:
            return
        if tracking in self.on_manifest() or tracking in self._checking:
            self.flag(tracking, "already on the manifest")
            return
        self._checking.add(tracking)
        self.controller.lookup_parcel(tracking)

    @Slot(str, object)
    def on_parcel(self, tracking: str, parcel: Any) -> None:
        self._checking.discard(tracking)
        carrier = self.carrier.text().strip()
        if parcel is None:
            self.flag(tracking, "not a PACKED parcel (unknown, not packed yet, or gone)")
        elif parcel.carrier != carrier:
            self.flag(tracking, f"belongs to {parcel.carrier or 'no carrier'}, not {carrier}")
        elif tracking not in self.on_manifest():
            self.model.set_rows([*self.model.rows(), parcel])
        self.close_button.setEnabled(self.model.rowCount() > 0)
        self.result.setText(f"{self.model.rowCount()} parcel(s) on the manifest")

    @Slot()
    def close_manifest(self) -> None:
        parcels = [p.tracking_number for p in self.model.rows()]
        if parcels:
            self.close_button.setEnabled(False)
            self.result.setText(f"Handing {len(parcels)} parcel(s) to {self.carrier.text()}…")
            self.controller.hand_off(self.carrier.text().strip(), parcels)

    @Slot()
    def clear(self) -> None:
        self.model.set_rows([])
        self.flags.clear()
        self.close_button.setEnabled(False)

    @Slot(object)
    def on_handed_off(self, manifest: Any) -> None:
        self.model.set_rows([])
        self.close_button.setEnabled(False)
        self.result.setText(f"Manifest {manifest.manifest_id}: {len(manifest.tracking_numbers)} "
                            f"parcel(s) handed to {manifest.carrier}")

    @Slot(str)
    def on_refused(self, message: str) -> None:
        self.close_button.setEnabled(self.model.rowCount() > 0)
        self.result.setText(f"Hand-off refused — {message}")
