"""Labels: fetch an order's label, preview it (QtPdf), save it, print it, or send ZPL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, Slot
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter, QPixmap
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.controller import ConsoleController
from tote.v1 import common_pb2

PRINT_DPI = 300  # the page is rasterized at this resolution for the printer
PREVIEW_DPI = 95  # a 4×6 label fits the window without scrolling


def render_on_white(document: QPdfDocument, page: int, dpi: int) -> QImage:
    """A page at `dpi`; QPdfDocument.render() leaves the background transparent."""
    points = document.pagePointSize(page)
    pixels = QSize(round(points.width() / 72 * dpi), round(points.height() / 72 * dpi))
    image = QImage(pixels, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(0, 0, document.render(page, pixels))
    painter.end()
    return image


class LabelsView(QWidget):
    """One order's shipping label at a time."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.label: Any = None
        self.order_id = QLineEdit(placeholderText="Order id")
        self.order_id.returnPressed.connect(self.load)
        self.load_button = QPushButton("Show label")
        self.load_button.clicked.connect(self.load)
        self.save_button = QPushButton("Save PDF…")
        self.print_button = QPushButton("Print… (Ctrl+P)")
        self.printer_address = QLineEdit(placeholderText="ZPL printer host:9100")
        self.zpl_button = QPushButton("Send ZPL")
        for button in (self.save_button, self.print_button):
            button.setEnabled(False)
        self.save_button.clicked.connect(self._save_clicked)
        self.print_button.clicked.connect(self.print_dialog)
        self.zpl_button.clicked.connect(self.send_zpl)
        self.result = QLabel("")

        self.document = QPdfDocument(self)
        self._buffer = QBuffer(self)
        # Rendered here, synchronously, the same way it is printed (QPdfView paints later).
        self.page_image = QLabel()
        self.page_image.setStyleSheet("background: #9e9e9e; padding: 8px")
        self.preview = QScrollArea()
        self.preview.setWidget(self.page_image)
        self.preview.setWidgetResizable(True)
        self.page_image.setAlignment(self.page_image.alignment().AlignCenter)

        top = QHBoxLayout()
        top.addWidget(self.order_id, 1)
        for widget in (self.load_button, self.save_button, self.print_button,
                       self.printer_address, self.zpl_button):
            top.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.result)

        controller.label_loaded.connect(self.on_label)
        controller.zpl_sent.connect(self.on_zpl_sent)
        controller.error.connect(self._enable)

    @Slot()
    def load(self) -> None:
        order_id = self.order_id.text().strip()
        if order_id:
            self.result.setText(f"Fetching the label of {order_id}…")
            self.controller.load_label(order_id, common_pb2.LABEL_FORMAT_PDF)

    @Slot(str, object)
    def on_label(self, order_id: str, label: Any) -> None:
        self.label = label
        self.document.close()
        self._buffer.close()
        self._buffer.setData(QByteArray(label.content))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        if self.document.pageCount():
            self.page_image.setPixmap(QPixmap.fromImage(
                render_on_white(self.document, 0, PREVIEW_DPI)))
        self._enable()
        self.result.setText(f"{order_id}: label {label.tracking_number}, "
                            f"{self.document.pageCount()} page(s)")

    @Slot()
    def _enable(self, *_args: object) -> None:
        has = self.label is not None
        self.save_button.setEnabled(has)
        self.print_button.setEnabled(has)

    def save(self, path: Path) -> None:
        path.write_bytes(self.label.content)
        self.result.setText(f"Saved {path}")

    @Slot()
    def _save_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save label",
                                              f"{self.label.tracking_number}.pdf",
                                              "PDF files (*.pdf)")
        if name:
            self.save(Path(name))

    @Slot()
    def print_dialog(self) -> None:
        if self.label is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        """Every page, rasterized on white at PRINT_DPI, one label per printer page."""
        painter = QPainter()
        for page in range(self.document.pageCount()):
            points = self.document.pagePointSize(page)
            printer.setPageLayout(QPageLayout(QPageSize(points, QPageSize.Unit.Point),
                                              QPageLayout.Orientation.Portrait,
                                              QMarginsF(0, 0, 0, 0)))
            if page == 0:
                painter.begin(printer)
            else:
                printer.newPage()
            painter.drawImage(QRectF(painter.viewport()),
                              render_on_white(self.document, page, PRINT_DPI))
        if painter.isActive():
            painter.end()
        self.result.setText(f"Printed {self.label.tracking_number}")

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

