"""Labels and documents: an order's label, pick list or packing slip; a wave's labels at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Slot
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import fc_choice
from desktop.controller import ConsoleController, LabelBatch
from desktop.fc_choice import ALL_FCS
from desktop.models import WaveModel
from desktop.pdf import PdfPane
from desktop.printing import PrintJob
from desktop.tables import table
from tote.v1 import common_pb2, fulfillment_pb2

LABEL = 0  # beside fulfillment_pb2.DocumentKind: the shipping label (GetLabel)
DOCUMENTS = {LABEL: "Shipping label",
             fulfillment_pb2.DOCUMENT_KIND_PICK_LIST: "Pick list",
             fulfillment_pb2.DOCUMENT_KIND_PACKING_SLIP: "Packing slip"}


class LabelsView(QWidget):
    """One document at a time in the preview; the PACKED orders on the left print as a wave."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.label: Any = None  # the last label shown (Label)
        self._orders: dict[str, common_pb2.Order] = {}
        self._batch_ids: list[str] = []
        self._asked: set[str] = set()  # packed orders whose parcels were asked for
        self._previewed = ""  # the packed order whose label was last shown on selecting it

        self.order_id = QLineEdit(placeholderText="Order id")
        self.order_id.returnPressed.connect(self.load)
        self.kind = QComboBox()
        for kind, name in DOCUMENTS.items():
            self.kind.addItem(name, kind)
        self.load_button = QPushButton("Show")
        self.load_button.clicked.connect(self.load)
        self.printer_address = QLineEdit(placeholderText="ZPL printer host:9100")
        self.printer_address.setMinimumWidth(150)
        self.zpl_button = QPushButton("Send ZPL")
        self.zpl_button.clicked.connect(self.send_zpl)

        self.fc_box = QComboBox()
        self.fc_box.addItem(ALL_FCS)
        self.fc_box.setMinimumContentsLength(8)
        self.fc_box.currentTextChanged.connect(self._publish)
        self.wave = WaveModel(self)
        self.wave_table = table(self.wave)
        self.wave_table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.wave_table.doubleClicked.connect(self._row_opened)
        self.wave_table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.select_all_button = QPushButton("Select all")
        self.select_all_button.clicked.connect(self.wave_table.selectAll)
        self.batch_button = QPushButton("Labels of selected")
        self.batch_button.setToolTip("Every selected order's label in one PDF, one label per "
                                     "page: print it (Ctrl+P) or save it")
        self.batch_button.setEnabled(False)
        self.batch_button.clicked.connect(self.load_batch)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m labels")
        self.progress.hide()

        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.pane = PdfPane("Show an order's label, pick list or packing slip, or select "
                            "packed orders and fetch their labels as one PDF.")
        self.pane.printed.connect(lambda title, pages: self.result.setText(
            f"Printed {title} ({pages} page{'s' if pages != 1 else ''})"))
        self.pane.print_failed.connect(lambda title, why: self.result.setText(
            f"Not printed: {title} — {why}"))
        self.pane.saved.connect(lambda path: self.result.setText(f"Saved {path}"))

        top = QHBoxLayout()
        top.addWidget(self.order_id, 1)
        top.addWidget(self.kind)
        top.addWidget(self.load_button)
        zpl = QHBoxLayout()
        zpl.addWidget(QLabel("Thermal printer"))
        zpl.addWidget(self.printer_address, 1)
        zpl.addWidget(self.zpl_button)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        fc_row = QHBoxLayout()
        fc_row.addWidget(QLabel("Packed at"))
        fc_row.addWidget(self.fc_box, 1)
        left_layout.addLayout(fc_row)
        left_layout.addWidget(self.wave_table, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.select_all_button)
        buttons.addWidget(self.batch_button, 1)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.progress)
        left_layout.addLayout(zpl)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.pane)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.result)

        c = controller
        c.label_loaded.connect(self.on_label)
        c.document_loaded.connect(self.on_document)
        c.batch_progress.connect(self.on_batch_progress)
        c.batch_ready.connect(self.on_batch)
        c.zpl_sent.connect(self.on_zpl_sent)
        c.orders_loaded.connect(self.set_orders)
        c.order_changed.connect(self.update_order)
        c.fcs_loaded.connect(self.on_fcs)
        c.error.connect(self._failed)

    # -- one order's documents ------------------------------------------------------------------

    @property
    def document(self) -> Any:
        return self.pane.document

    @Slot()
    def load(self) -> None:
        order_id = self.order_id.text().strip()
        if not order_id:
            self.result.setText("Type or scan an order id.")
            return
        kind = self.kind.currentData()
        self.result.setText(f"Fetching the {DOCUMENTS[kind].lower()} of {order_id}…")
        if kind == LABEL:
            self.controller.load_label(order_id, common_pb2.LABEL_FORMAT_PDF)
        else:
            self.controller.load_document(order_id, kind)

    @Slot(str, object)
    def on_label(self, order_id: str, label: Any) -> None:
        self.label = label
        self.pane.show_pdf(label.content, f"Label {label.tracking_number} — {order_id}",
                           f"{label.tracking_number}.pdf")
        self.result.setText(f"{order_id}: label {label.tracking_number}, "
                            f"{self.pane.document.pageCount()} page(s)")

    @Slot(str, int, object)
    def on_document(self, order_id: str, kind: int, doc: Any) -> None:
        name = DOCUMENTS.get(kind, "Document")
        self.pane.show_pdf(doc.content, f"{name} — {order_id}",
                           doc.filename or f"{order_id}-{name.lower().replace(' ', '-')}.pdf")
        self.result.setText(f"{order_id}: {name.lower()}, "
                            f"{self.pane.document.pageCount()} page(s)")

    @Slot()
    def print_dialog(self) -> None:
        self.pane.print_dialog()

    def print_to(self, printer: QPrinter) -> PrintJob | None:
        return self.pane.print_to(printer)

    def save(self, path: Path) -> None:
        self.pane.save(path)

    @Slot(str)
    def _failed(self, message: str) -> None:
        if self.progress.isVisible():  # the batch itself failed (the server went away)
            self.progress.hide()
            self._selection_changed()
        if self.result.text().endswith("…"):
            self.result.setText(f"Failed — {message}")

    # -- a wave: the packed orders ----------------------------------------------------------------

    @Slot(list)
    def set_orders(self, orders: list[common_pb2.Order]) -> None:
        known, self._orders = self._orders, {}
        for o in orders:
            old = known.get(o.order_id)
            if not o.shipments and old is not None and old.shipments:
                # ListOrders carries no parcels; a packed parcel's carrier and tracking number
                # (read by GetOrder after its events) never change.
                listed, o = o, common_pb2.Order()
                o.CopyFrom(listed)  # the listed order is shared with the other views
                o.shipments.extend(old.shipments)
                o.carrier, o.tracking_number = old.carrier, old.tracking_number
            self._orders[o.order_id] = o
            if (o.status == common_pb2.ORDER_STATUS_PACKED and not o.shipments
                    and o.order_id not in self._asked):
                # Its carrier and tracking number, once (GetOrder; debounced by the controller).
                self._asked.add(o.order_id)
                self.controller.refresh_order(o.order_id)
        self._publish()

    @Slot(object)
    def update_order(self, order: common_pb2.Order) -> None:
        known = self._orders.get(order.order_id)
        self._orders[order.order_id] = order
        if order.status == common_pb2.ORDER_STATUS_PACKED or (
                known is not None and known.status == common_pb2.ORDER_STATUS_PACKED):
            self._publish()

    @Slot(list)
    def on_fcs(self, fcs: list[common_pb2.FulfillmentCenter]) -> None:
        fc_choice.fill(self.fc_box, fcs)

    @Slot()
    def _publish(self, *_args: object) -> None:
        fc = self.fc_box.currentText()
        selected = set(self.selected_order_ids())
        self.wave.set_rows(sorted(
            (o for o in self._orders.values() if o.status == common_pb2.ORDER_STATUS_PACKED
             and fc_choice.at(o, fc)),
            key=lambda o: (o.fc_id, o.created_at.seconds, o.order_id)))
        for r in range(self.wave.rowCount()):  # a reset keeps what the supervisor selected
            if self.wave.row_at(r).order_id in selected:
                self.wave_table.selectionModel().select(
                    self.wave.index(r, 0), QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows)
        self._selection_changed()

    def selected_order_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.wave_table.selectionModel().selectedRows()})
        return [self.wave.row_at(r).order_id for r in rows if r < self.wave.rowCount()]

    def select_orders(self, order_ids: list[str]) -> None:
        self.wave_table.clearSelection()
        for r in range(self.wave.rowCount()):
            if self.wave.row_at(r).order_id in order_ids:
                self.wave_table.selectionModel().select(
                    self.wave.index(r, 0), QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows)

    @Slot()
    def _selection_changed(self, *_args: object) -> None:
        selected = self.selected_order_ids()
        n = len(selected)
        self.batch_button.setText(f"Labels of selected ({n})" if n else "Labels of selected")
        self.batch_button.setEnabled(n > 0 and not self.progress.isVisible())
        # One packed order selected: its label in the preview, as the supervisor expects
        # (several selected print as one PDF with "Labels of selected").
        if n == 1 and selected[0] != self._previewed and not self.progress.isVisible():
            self._previewed = selected[0]
            self.order_id.setText(selected[0])
            self.kind.setCurrentIndex(self.kind.findData(LABEL))
            self.load()

    @Slot(object)
    def _row_opened(self, index: Any) -> None:
        self.order_id.setText(self.wave.row_at(index.row()).order_id)
        self.load()

    @Slot()
    def load_batch(self) -> None:
        order_ids = self.selected_order_ids()
        if not order_ids:
            return
        self._batch_ids = order_ids
        self.progress.setRange(0, len(order_ids))
        self.progress.setValue(0)
        self.progress.show()
        self.batch_button.setEnabled(False)
        self.result.setText(f"Fetching {len(order_ids)} label(s)…")
        self.controller.load_label_batch(order_ids)

    @Slot(int, int, str)
    def on_batch_progress(self, done: int, total: int, _order_id: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    @Slot(object)
    def on_batch(self, batch: LabelBatch) -> None:
        self.progress.hide()
        self._selection_changed()
        failed = "".join(f"; {order_id}: {message}" for order_id, message in batch.failed)
        if not batch.pdf:
            self.result.setText(f"No label could be fetched{failed}")
            return
        n = len(batch.tracking_numbers)
        self.pane.show_pdf(batch.pdf, f"{n} label{'s' if n != 1 else ''} in one PDF, "
                           "one per page", f"labels-{n}.pdf")
        self.result.setText(f"{n} label(s) ready to print or save"
                            + (f" — {len(batch.failed)} without a label{failed}"
                               if batch.failed else ""))

    # -- thermal printers -------------------------------------------------------------------------

    @Slot()
    def send_zpl(self) -> None:
        order_id = self.order_id.text().strip()
        host, _, port = self.printer_address.text().strip().rpartition(":")
        if not order_id or not host or not port.isdigit():
            self.result.setText("Type the order id and the printer as host:9100.")
            return
        self.result.setText(f"Sending the ZPL label of {order_id} to {host}:{port}…")
        self.controller.send_zpl(order_id, host, int(port))

    @Slot(str, str)
    def on_zpl_sent(self, order_id: str, tracking: str) -> None:
        self.result.setText(f"ZPL label {tracking} of {order_id} sent to "
                            f"{self.printer_address.text().strip()}")
