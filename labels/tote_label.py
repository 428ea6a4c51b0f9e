"""Tote labels: the tote's short code in large type over its Code128, one 4 × 2 inch label
per tote, so a packer scans (or reads out) "T-0042" instead of a pick task id."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import inch
from reportlab.pdfgen.canvas import Canvas

from labels import codes, fonts
from labels.codes import Drawn
from labels.errors import LabelDataError
from labels.spec import Box
from labels.verify import check_drawn

TOTE_LABEL = (4 * inch, 2 * inch)  # width, height in points: the common small label roll
DPI = 203
MARGIN = 9.0
CODE_SIZE = 40.0  # the code in type a packer reads from a metre away
MAX_CODE = 16


def _check(code: str) -> None:
    if not code or len(code) > MAX_CODE or not code.isascii() or not code.isprintable():
        raise LabelDataError("tote_code", f"{code[:32]!r} must be 1..{MAX_CODE} printable "
                             "ASCII characters, e.g. T-0042")


@fonts.one_at_a_time
def render_tote_labels(tote_codes: list[str], fc_id: str = "", *, check: bool = True) -> bytes:
    """A PDF with one tote label per code (in order); every barcode is read back first."""
    if not tote_codes:
        raise LabelDataError("tote_code", "give at least one tote code")
    for code in tote_codes:
        _check(code)
    fonts.register()
    width, height = TOTE_LABEL
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=TOTE_LABEL, pageCompression=1)
    canvas.setTitle(f"Tote labels {tote_codes[0]}" + (" …" if len(tote_codes) > 1 else ""))
    canvas.setAuthor("tote")
    drawn: list[tuple[int, Drawn]] = []
    for page, code in enumerate(tote_codes):
        top = height - MARGIN
        w = fonts.text_width(code, CODE_SIZE, bold=True)
        fonts.draw_text(canvas, (width - w) / 2, top - CODE_SIZE * 0.78, code, CODE_SIZE,
                        bold=True)
        caption = f"TOTE · {fc_id}" if fc_id else "TOTE"
        fonts.draw_text(canvas, MARGIN, MARGIN, caption, 8)
        bars = Box(MARGIN, MARGIN + 12, width - 2 * MARGIN, top - CODE_SIZE - 6 - MARGIN - 12)
        drawn.append((page, codes.code128(canvas, code, bars, DPI, field="tote_code")))
        canvas.showPage()
    canvas.save()
    pdf = buf.getvalue()
    if check:
        check_drawn(f"tote label {tote_codes[0]}", pdf, drawn, DPI)
    return pdf
