"""Printing a PDF off the GUI thread: the window keeps running, the printed file still decodes."""

from __future__ import annotations

import io

import pytest
from PySide6.QtCore import QTimer
from reportlab.graphics.barcode import code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen import canvas

from desktop.pdf import PdfPane
from labels import verify
from tests.desktop.conftest import pdf_printer, print_to_file, screenshot

pytestmark = pytest.mark.qt
PAGES = 12
LABEL = (4 * inch, 6 * inch)  # a wave's labels: one 4×6 label per page


def barcoded_pdf(codes: list[str]) -> bytes:
    """A 4×6 page per code: its Code128 across the top, some text under it."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=LABEL)
    for code in codes:
        code128.Code128(code, barWidth=0.4 * mm, barHeight=18 * mm).drawOn(c, 8 * mm, 125 * mm)
        c.setFont("Helvetica", 10)
        for n in range(20):
            c.drawString(8 * mm, (115 - n * 5) * mm, f"{code} line {n}: 1x SKU-{n:04d}")
        c.showPage()
    c.save()
    return out.getvalue()


@pytest.fixture
def pane(qtbot) -> PdfPane:  # type: ignore[no-untyped-def]
    pane = PdfPane("nothing yet")
    qtbot.addWidget(pane)
    pane.resize(500, 600)
    pane.show()
    return pane


def test_a_long_print_keeps_the_gui_thread_free_and_the_printed_pdf_decodes(
        qtbot, pane, tmp_path) -> None:  # type: ignore[no-untyped-def]
    codes = [f"WAVE-{n:03d}" for n in range(1, PAGES + 1)]
    pane.show_pdf(barcoded_pdf(codes), "A wave", "wave.pdf")
    assert pane.document.pageCount() == PAGES
    progress: list[tuple[int, int]] = []
    # One log, in the GUI thread's order, of the timer's ticks and the pages reported printed.
    log: list[str] = []
    pane.print_progress.valueChanged.connect(
        lambda v: (progress.append((v, pane.print_progress.maximum())), log.append(f"page {v}")))
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: log.append("tick"))
    timer.start()
    printed = tmp_path / "wave.pdf"
    try:
        with qtbot.waitSignal(pane.printed, timeout=60_000) as done:
            job = pane.print_to(pdf_printer(printed))
            assert job is not None and pane.printing()
            # Shown while it prints, and not started twice.
            assert pane.print_progress.isVisible() and not pane.print_button.isEnabled()
            assert pane.print_to(pdf_printer(tmp_path / "twice.pdf")) is None
            screenshot(pane, "printing")
    finally:
        timer.stop()
    assert done.args == ["A wave", PAGES]
    # The GUI thread's timer fired between the first page and the last: it ran while pages were
    # still printing. Printed on the GUI thread, every page would be reported before any tick.
    # (bench/console_print.py measures how long the GUI thread is held up per page.)
    first, last = log.index("page 1"), log.index(f"page {PAGES}")
    assert "tick" in log[first:last], log
    assert progress[-1] == (PAGES, PAGES) and (1, PAGES) in progress
    assert not pane.printing() and not pane.print_row.isVisible()
    assert pane.print_button.isEnabled()
    assert not (tmp_path / "twice.pdf").exists()

    # The printed PDF is a raster of the pages: every barcode reads back, one per page, in order.
    read = verify(printed.read_bytes(), symbols=["CODE128"])
    assert [(c.page, c.data) for c in read] == list(enumerate(codes))


def test_a_stopped_print_says_so_and_the_pane_prints_again(
        qtbot, pane, tmp_path) -> None:  # type: ignore[no-untyped-def]
    codes = [f"STOP-{n}" for n in range(PAGES)]
    pane.show_pdf(barcoded_pdf(codes), "Stopped", "stopped.pdf")
    with qtbot.waitSignal(pane.print_failed, timeout=60_000) as failed:
        assert pane.print_to(pdf_printer(tmp_path / "stopped.pdf")) is not None
        assert pane.stop_button.isVisible()
        pane.stop_button.click()  # long before the last page
        assert not pane.stop_button.isEnabled()
    title, why = failed.args
    assert title == "Stopped"
    assert why.startswith("stopped after ") and why.endswith(f" of {PAGES} pages")
    assert not pane.printing() and pane.print_button.isEnabled()
    assert not pane.print_row.isVisible()
    # The pane is free for the next print, which completes.
    assert print_to_file(qtbot, pane, tmp_path / "again.pdf") == PAGES
