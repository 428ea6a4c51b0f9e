"""Printing a PDF off the GUI thread: PDFium rasterizes each page, QPainter puts it on the printer.

Both halves run on a worker thread. Qt supports QPainter on a QPrinter outside the GUI thread
("Painting in Threads", doc.qt.io/qt-6/threads-modules.html; only macOS's automatic progress
dialog is lost), and the paint is the slower half: PDF output deflates every page's pixels,
~0.1 s for an A4 page at 300 dpi here (~0.025 s a 4×6 label), against ~0.06 s to rasterize it.
PySide keeps the GIL through QPainter.drawImage, so Python on the GUI thread (slots, timers)
still waits out one page's paint at a time; rasterizing (ctypes lets the GIL go) and all that
lies between pages run beside it. The QPrinter belongs to the job until it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pypdfium2 as pdfium
from PySide6.QtCore import QMarginsF, QObject, QRectF, QSizeF, Signal
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter

from labels.verify import PDFIUM_LOCK

PRINT_DPI = 300  # each page is rasterized at this resolution for the printer


class PrintCancelled(Exception):
    """The job was stopped between two pages."""


def _page_image(pdf: pdfium.PdfDocument, index: int, dpi: int) -> tuple[QImage, QSizeF]:
    """One page on white at `dpi`, and its size in points (PDFium lock held by the caller)."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        # BGRx is QImage's RGB32 in memory; copied, since the bitmap's buffer dies with it.
        bitmap = page.render(scale=dpi / 72, prefer_bgrx=True, fill_color=(255, 255, 255, 255))
        try:
            image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                           QImage.Format.Format_RGB32).copy()
        finally:
            bitmap.close()
    finally:
        page.close()
    return image, QSizeF(width, height)


def print_pdf(content: bytes, printer: QPrinter, dpi: int = PRINT_DPI,
              on_page: Callable[[int, int], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> int:
    """Every page on its own printer page of the same size, rasterized at `dpi`; page count.

    Blocking: the console calls it from a PrintJob's thread. The PDFium lock is held for each
    page's rasterization only, so other PDFium work (merging a wave) goes on in between.
    """
    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(content)
        except pdfium.PdfiumError as exc:
            raise ValueError(f"not a readable PDF ({exc})") from None
        pages = len(pdf)
    painter = QPainter()
    try:
        for index in range(pages):
            if cancelled is not None and cancelled():
                printer.abort()
                raise PrintCancelled(f"stopped after {index} of {pages} pages")
            with PDFIUM_LOCK:
                image, points = _page_image(pdf, index, dpi)
            printer.setPageLayout(QPageLayout(QPageSize(points, QPageSize.Unit.Point),
                                              QPageLayout.Orientation.Portrait,
                                              QMarginsF(0, 0, 0, 0)))
            if index == 0:
                if not painter.begin(printer):
                    raise OSError("the printer did not start the job")
            elif not printer.newPage():
                raise OSError(f"the printer refused page {index + 1}")
            painter.drawImage(QRectF(painter.viewport()), image)
            if on_page is not None:
                on_page(index + 1, pages)
    finally:
        if painter.isActive():
            painter.end()
        with PDFIUM_LOCK:
            pdf.close()
    return pages


class PrintJob(QObject):
    """print_pdf on a thread of its own; what happens comes back as queued Signals."""

    progress = Signal(int, int)  # pages printed, of how many
    finished = Signal(int)  # pages printed
    failed = Signal(str)  # why (a stop, an unreadable PDF, a printer that refused)

    def __init__(self, content: bytes, printer: QPrinter, dpi: int = PRINT_DPI,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.content, self.printer, self.dpi = content, printer, dpi
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="tote-print")
        self._thread.start()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def cancel(self) -> None:
        """Stop before the next page (the printer's job is aborted)."""
        self._stop.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the job ends (at shutdown); True if it did."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running()

    def _run(self) -> None:
        # Emitted from this thread: queued to the receivers in the GUI thread.
        try:
            pages = print_pdf(self.content, self.printer, self.dpi,
                              on_page=self.progress.emit, cancelled=self._stop.is_set)
        except Exception as exc:  # reported to the pane, which says so
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        self.finished.emit(pages)
