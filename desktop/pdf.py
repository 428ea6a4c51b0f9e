"""PDFs in the console: merged, previewed (QtPdf), printed off the GUI thread, saved."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QResizeEvent
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.printing import PrintJob
from labels.verify import PDFIUM_LOCK

MIN_PREVIEW_DPI, MAX_PREVIEW_DPI = 30, 110


def merge_pdfs(contents: Sequence[bytes]) -> bytes:
    """One PDF holding every page of each input, in order (a wave's labels: one per page)."""
    with PDFIUM_LOCK:
        merged = pdfium.PdfDocument.new()
        sources = [pdfium.PdfDocument(content) for content in contents]
        try:
            for source in sources:
                merged.import_pages(source)
            out = io.BytesIO()
            merged.save(out)
            return out.getvalue()
        finally:
            for source in sources:
                source.close()
            merged.close()


def render_on_white(document: QPdfDocument, page: int, dpi: float) -> QImage:
    """A page at `dpi`; QPdfDocument.render() leaves the background transparent."""
    points = document.pagePointSize(page)
    pixels = QSize(max(1, round(points.width() / 72 * dpi)),
                   max(1, round(points.height() / 72 * dpi)))
    image = QImage(pixels, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(0, 0, document.render(page, pixels))
    painter.end()
    return image


class PdfPane(QWidget):
    """One PDF at a time: the page fitted to the pane, page by page; Save and Print."""

    printed = Signal(str, int)  # title, pages
    print_failed = Signal(str, str)  # title, why
    saved = Signal(str)  # path

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.content = b""
        self.title = ""
        self.filename = "document.pdf"
        self.job: PrintJob | None = None  # the print under way
        self.document = QPdfDocument(self)
        self._buffer = QBuffer(self)
        self.caption = QLabel(empty_text)
        self.caption.setWordWrap(True)
        self.page = QSpinBox()
        self.page.setPrefix("Page ")
        self.page.setRange(1, 1)
        self.page.setMinimumWidth(self.page.fontMetrics().horizontalAdvance("Page 000 of 000")
                                  + 40)
        self.page.hide()  # shown for a PDF of several pages
        self.page.valueChanged.connect(self._render_from_top)
        self.fit_width = QCheckBox("Fit width")
        self.fit_width.setToolTip("Read an A4 page at full width (scroll down it)")
        self.fit_width.toggled.connect(self._render_from_top)
        self.save_button = QPushButton("Save PDF…")
        self.print_button = QPushButton("Print…")
        for button in (self.save_button, self.print_button):
            button.setEnabled(False)
        self.save_button.clicked.connect(self._save_clicked)
        self.print_button.clicked.connect(self.print_dialog)
        self.print_progress = QProgressBar()
        self.print_progress.setFormat("Printing — %v of %m pages sent to the printer")
        self.stop_button = QPushButton("Stop printing")
        self.stop_button.setToolTip("Stop after the page being printed (the printer's job is "
                                    "aborted)")
        self.stop_button.clicked.connect(self.stop_printing)
        # A row of its own, shown while a print runs.
        self.print_row = QWidget()
        row = QHBoxLayout(self.print_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.print_progress, 1)
        row.addWidget(self.stop_button)
        self.print_row.hide()

        # One page at screen resolution, rendered here at once (a few ms; QPdfView paints later).
        self.page_image = QLabel()
        self.page_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.page_image.setStyleSheet("background: #9e9e9e")
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.page_image)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setMinimumSize(160, 160)
        # A resize re-renders once the pane has settled, not at every pixel.
        self._refit = QTimer(self, singleShot=True, interval=80)
        self._refit.timeout.connect(self._render)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.page)
        bar.addWidget(self.fit_width)
        bar.addStretch(1)
        bar.addWidget(self.save_button)
        bar.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addLayout(bar)
        layout.addWidget(self.print_row)
        layout.addWidget(self.scroll_area, 1)

    def has_pdf(self) -> bool:
        return bool(self.content) and self.document.pageCount() > 0

    def show_pdf(self, content: bytes, title: str, filename: str) -> None:
        """Shows the PDF from its first page; Save and Print then act on it."""
        self.content, self.title, self.filename = content, title, filename
        self.document.close()
        self._buffer.close()
        self._buffer.setData(QByteArray(content))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document.load(self._buffer)
        pages = self.document.pageCount()
        self.page.blockSignals(True)
        self.page.setRange(1, max(1, pages))
        self.page.setValue(1)
        self.page.setSuffix(f" of {pages}")
        self.page.blockSignals(False)
        self.page.setVisible(pages > 1)
        self.caption.setText(title if pages else f"{title}: not a readable PDF")
        self.save_button.setEnabled(pages > 0)
        self.print_button.setEnabled(pages > 0 and not self.printing())
        self._render_from_top()

    @Slot()
    def _render_from_top(self, *_args: object) -> None:
        self._render()
        self.page_image.adjustSize()
        self.scroll_area.verticalScrollBar().setValue(0)

    def preview_dpi(self, page: int) -> float:
        """The resolution at which the page fits the visible area."""
        points = self.document.pagePointSize(page)
        view = self.scroll_area.viewport().size()
        if points.width() <= 0 or points.height() <= 0:
            return MIN_PREVIEW_DPI
        across = (view.width() - 16) / (points.width() / 72)
        if self.fit_width.isChecked():
            return max(MIN_PREVIEW_DPI, across)
        fit = min(across, (view.height() - 16) / (points.height() / 72))
        return max(MIN_PREVIEW_DPI, min(MAX_PREVIEW_DPI, fit))

    @Slot()
    def _render(self, *_args: object) -> None:
        if not self.has_pdf():
            self.page_image.clear()
            return
        page = self.page.value() - 1
        self.page_image.setPixmap(QPixmap.fromImage(
            render_on_white(self.document, page, self.preview_dpi(page))))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.has_pdf():
            self._refit.start()

    def save(self, path: Path) -> None:
        path.write_bytes(self.content)
        self.saved.emit(str(path))

    @Slot()
    def _save_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save PDF", self.filename,
                                              "PDF files (*.pdf)")
        if name:
            self.save(Path(name))

    @Slot()
    def print_dialog(self) -> None:
        if not self.has_pdf() or self.printing():
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.title)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self.print_to(printer)

    def printing(self) -> bool:
        return self.job is not None

    def print_to(self, printer: QPrinter) -> PrintJob | None:
        """Prints the PDF shown on a worker thread; `printed` (or `print_failed`) at the end."""
        if not self.has_pdf() or self.printing():
            return None
        job = self.job = PrintJob(self.content, printer, parent=self)
        job.setObjectName(self.title)
        pages = self.document.pageCount()
        self.print_progress.setRange(0, pages)
        self.print_progress.setValue(0)
        self.stop_button.setEnabled(True)
        self.print_row.show()
        self.print_button.setEnabled(False)  # one job at a time
        # Bound slots of this widget: the job's thread emits, the GUI thread receives (queued).
        job.progress.connect(self._print_progress)
        job.finished.connect(self._print_finished)
        job.failed.connect(self._print_failed)
        job.start()
        return job

    @Slot(int, int)
    def _print_progress(self, done: int, pages: int) -> None:
        self.print_progress.setRange(0, pages)
        self.print_progress.setValue(done)

    @Slot(int)
    def _print_finished(self, pages: int) -> None:
        self.printed.emit(self._print_ended(), pages)

    @Slot(str)
    def _print_failed(self, why: str) -> None:
        self.print_failed.emit(self._print_ended(), why)

    def _print_ended(self) -> str:
        """Forgets the job (its thread is past its last signal); the title it printed."""
        job, self.job = self.job, None
        assert job is not None
        job.wait()
        job.deleteLater()
        self.print_row.hide()
        self.print_button.setEnabled(self.has_pdf())
        return job.objectName()

    @Slot()
    def stop_printing(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.stop_button.setEnabled(False)

    def finish_printing(self, timeout_s: float = 60) -> None:
        """At shutdown: let the print under way end (the printer is the job's till then)."""
        if self.job is not None:
            self.job.wait(timeout_s)
