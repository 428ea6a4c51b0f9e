"""How long printing a wave of labels holds up the console's GUI thread.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/console_print.py [--pages 12]

The speed side of tests/desktop/test_printing.py (which checks only that the GUI thread runs
while pages print): a 20 ms QTimer on the GUI thread while PdfPane prints a 4×6 label per page
to a PDF file on its worker thread. Prints the print's wall time, how many ticks fired, and the
longest gap between two ticks (one page's paint holds the GIL: expect about a page's time, not
the whole print). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.pdf import PdfPane  # noqa: E402
from tests.desktop.conftest import pdf_printer  # noqa: E402
from tests.desktop.test_printing import barcoded_pdf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=12)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    pane = PdfPane("bench")
    pane.show_pdf(barcoded_pdf([f"WAVE-{n:03d}" for n in range(args.pages)]), "bench", "b.pdf")
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = QEventLoop()
    pane.printed.connect(lambda *_: loop.quit())
    pane.print_failed.connect(lambda *_: loop.quit())
    with tempfile.TemporaryDirectory() as tmp:
        timer.start()
        started = time.perf_counter()
        pane.print_to(pdf_printer(Path(tmp) / "wave.pdf"))
        loop.exec()
        elapsed = time.perf_counter() - started
        timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    print(f"{args.pages} pages in {elapsed * 1000:.0f} ms; {len(ticks)} ticks of 20 ms; "
          f"longest gap {max(gaps, default=elapsed) * 1000:.0f} ms "
          f"({elapsed / args.pages * 1000:.0f} ms per page)")
    del app


if __name__ == "__main__":
    main()
