"""Carrier hand-off: scan parcels onto a manifest, then HandOff (the orders become SHIPPED)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.carriers import CarrierBox
from desktop.controller import ConsoleController
from desktop.models import _RowsModel, timestamp
from desktop.pdf import PdfPane
from desktop.tables import table


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
        self.carrier = CarrierBox()
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
        self.result.setWordWrap(True)
        self._checking: set[str] = set()
        self._fetching_manifest = ""
        # This session's manifests, newest first; choosing one fetches it again (GetManifest).
        self.manifests = QListWidget()
        self.manifests.setMaximumHeight(90)
        self.manifests.itemActivated.connect(self._manifest_chosen)
        self.manifests.itemClicked.connect(self._manifest_chosen)
        self.pane = PdfPane("The manifest the driver signs appears here after the hand-off.")
        self.pane.printed.connect(lambda title, pages: self.result.setText(
            f"Printed {title} ({pages} page{'s' if pages != 1 else ''})"))
        self.pane.print_failed.connect(lambda title, why: self.result.setText(
            f"Not printed: {title} — {why}"))
        self.pane.saved.connect(lambda path: self.result.setText(f"Saved {path}"))

        top = QFormLayout()
        top.addRow("Carrier", self.carrier)
        top.addRow("Scan", self.scan)
        buttons = QHBoxLayout()
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(QLabel("Manifest"))
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(QLabel("Flagged scans (not added)"))
        left_layout.addWidget(self.flags)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.result)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel("Manifests this session (click to reprint)"))
        right_layout.addWidget(self.manifests)
        right_layout.addWidget(self.pane, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(split)

        controller.parcel_looked_up.connect(self.on_parcel)
        controller.handed_off.connect(self.on_handed_off)
        controller.hand_off_refused.connect(self.on_refused)
        controller.manifest_loaded.connect(self.show_manifest)
        controller.error.connect(self._fetch_failed)

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
        carrier = self.carrier.carrier()
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
            self.result.setText(f"Handing {len(parcels)} parcel(s) to {self.carrier.carrier()}…")
            self.controller.hand_off(self.carrier.carrier(), parcels)

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
        item = QListWidgetItem(f"{manifest.manifest_id} — {manifest.carrier}, "
                               f"{len(manifest.tracking_numbers)} parcel(s)"
                               + (f", {timestamp(manifest.created_at)}"
                                  if manifest.created_at.seconds else ""))
        item.setData(Qt.ItemDataRole.UserRole, manifest.manifest_id)
        self.manifests.insertItem(0, item)
        self.show_manifest(manifest)  # at once, for the driver to sign

    @Slot(object)
    def show_manifest(self, manifest: Any) -> None:
        self._fetching_manifest = ""
        if not manifest.pdf:
            self.pane.caption.setText(f"Manifest {manifest.manifest_id}: the server sent no PDF")
            return
        self.pane.show_pdf(manifest.pdf, f"Manifest {manifest.manifest_id} — "
                           f"{manifest.carrier}, {len(manifest.tracking_numbers)} parcel(s)",
                           f"{manifest.manifest_id}.pdf")

    @Slot(QListWidgetItem)
    def _manifest_chosen(self, item: QListWidgetItem) -> None:
        manifest_id = item.data(Qt.ItemDataRole.UserRole)
        if manifest_id == self._fetching_manifest:  # a double click is a click and an activation
            return
        self._fetching_manifest = manifest_id
        self.pane.caption.setText(f"Fetching manifest {manifest_id}…")
        self.controller.load_manifest(manifest_id)

    @Slot(str)
    def _fetch_failed(self, message: str) -> None:
        if self._fetching_manifest:
            self.pane.caption.setText(f"Manifest {self._fetching_manifest}: {message}")
            self._fetching_manifest = ""

    @Slot()
    def print_dialog(self) -> None:
        self.pane.print_dialog()

    @Slot(str)
    def on_refused(self, message: str) -> None:
        self.close_button.setEnabled(self.model.rowCount() > 0)
        self.result.setText(f"Hand-off refused — {message}")
