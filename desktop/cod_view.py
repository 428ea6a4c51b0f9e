"""COD reconciliation per carrier: expected, collected, remitted, discrepancies; remittances."""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.carriers import CarrierBox
from desktop.controller import ConsoleController
from desktop.models import _RowsModel, money
from desktop.tables import table
from labels.money import plain_amount
from tote.v1 import common_pb2

CURRENCY = "INR"


class DiscrepanciesModel(_RowsModel):
    """The reconciliation's discrepancies: one row per parcel and kind."""

    COL_TRACKING, COL_KIND, COL_EXPECTED, COL_ACTUAL, COL_DETAIL = range(5)
    HEADERS = ("Tracking number", "Discrepancy", "Expected", "Actual", "Detail")

    def key(self, row: Any) -> tuple[str, str]:
        return (row.tracking_number, row.kind)

    def cell(self, d: Any, column: int) -> Any:
        return (d.tracking_number, d.kind.replace("_", " "), money(d.expected),
                money(d.actual), d.detail)[column]


def parse_amount(text: str) -> int | None:
    """'1,234.50' → 123450 minor units; None when it is not an amount."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


class CodView(QWidget):
    """One carrier's reconciliation, the remittance form, and the CSV export."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.reconciliation: Any = None
        self.carrier = CarrierBox()
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load)
        self.carrier.currentIndexChanged.connect(self.load)  # a carrier chosen from the list
        self.carrier.entry().returnPressed.connect(self.load)  # or a new one typed
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export_clicked)
        self.totals = QLabel("")
        self.totals.setStyleSheet("font-size: 13px")
        self.model = DiscrepanciesModel(self)
        self.table = table(self.model)

        self.reference = QLineEdit(placeholderText="Bank reference, e.g. NEFT-123")
        self.amount = QLineEdit(placeholderText=f"Amount ({CURRENCY})")
        self.parcels = QPlainTextEdit()
        self.parcels.setPlaceholderText("Tracking numbers, one per line (scan them)")
        self.parcels.setFixedHeight(70)
        self.record_button = QPushButton("Record remittance")
        self.record_button.clicked.connect(self.record)
        self.result = QLabel("")

        top = QHBoxLayout()
        top.addWidget(QLabel("Carrier"))
        top.addWidget(self.carrier)
        top.addWidget(self.load_button)
        top.addWidget(self.export_button)
        top.addStretch(1)
        form = QFormLayout()
        form.addRow("Reference", self.reference)
        form.addRow("Amount", self.amount)
        form.addRow("Parcels", self.parcels)
        button_row = QHBoxLayout()
        button_row.addWidget(self.record_button)
        button_row.addStretch(1)
        form.addRow("", button_row)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.totals)
        layout.addWidget(QLabel("Discrepancies"))
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Record a remittance"))
        layout.addLayout(form)
        layout.addWidget(self.result)

        controller.cod_loaded.connect(self.on_loaded)
        controller.remittance_recorded.connect(self.on_recorded)
        controller.remittance_refused.connect(self.on_refused)

    @Slot()
    def load(self, *_args: object) -> None:
        if self.carrier.carrier():
            self.controller.load_cod(self.carrier.carrier())

    @Slot(str, object)
    def on_loaded(self, carrier: str, rec: Any) -> None:
        if carrier != self.carrier.carrier():
            return
        self.reconciliation = rec
        self.totals.setText(f"<b>{carrier}</b> — expected {money(rec.expected) or '0'}, "
                            f"collected {money(rec.collected) or '0'}, "
                            f"remitted {money(rec.remitted) or '0'}; "
                            f"{len(rec.discrepancies)} "
                            f"discrepanc{'y' if len(rec.discrepancies) == 1 else 'ies'}")
        self.model.set_rows(list(rec.discrepancies))
        self.export_button.setEnabled(True)

    @Slot()
    def record(self) -> None:
        carrier, reference = self.carrier.carrier(), self.reference.text().strip()
        minor = parse_amount(self.amount.text())
        parcels = [p.strip() for p in self.parcels.toPlainText().split() if p.strip()]
        if not carrier or not reference or minor is None or not parcels:
            self.result.setText("A remittance needs a carrier, a reference, an amount "
                                "(e.g. 1234.50) and at least one tracking number.")
            return
        self.record_button.setEnabled(False)
        self.result.setText(f"Recording {reference}…")
        self.controller.record_remittance(
            carrier, reference, common_pb2.Money(amount_minor=minor, currency=CURRENCY), parcels)

    @Slot(object)
    def on_recorded(self, remittance: Any) -> None:
        self.record_button.setEnabled(True)
        self.result.setText(f"Recorded {remittance.reference}: {money(remittance.amount)} for "
                            f"{len(remittance.tracking_numbers)} parcel(s)")
        self.reference.clear()
        self.amount.clear()
        self.parcels.clear()

    @Slot(str)
    def on_refused(self, message: str) -> None:
        self.record_button.setEnabled(True)
        self.result.setText(f"Refused — {message}")

    @Slot()
    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export reconciliation",
                                              f"cod-{self.carrier.carrier()}.csv",
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> None:
        """The totals and every discrepancy, amounts in major units."""
        rec = self.reconciliation
        with path.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["carrier", "expected", "collected", "remitted", "currency"])
            currency = rec.expected.currency or CURRENCY
            # Plain decimals in the currency's own exponent, for a spreadsheet to sum.
            out.writerow([self.carrier.carrier(), *(
                plain_amount(m.amount_minor, currency)
                for m in (rec.expected, rec.collected, rec.remitted)), currency])
            out.writerow([])
            out.writerow(["tracking_number", "kind", "expected", "actual", "currency",
                          "detail"])
            for d in rec.discrepancies:
                cur = d.expected.currency or d.actual.currency or currency
                out.writerow([d.tracking_number, d.kind, plain_amount(d.expected.amount_minor, cur),
                              plain_amount(d.actual.amount_minor, cur), cur, d.detail])
        self.result.setText(f"Exported to {path}")
