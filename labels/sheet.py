"""Office-paper documents (A4, Letter) drawn top-down row by row, with page breaks.

Shared by the packing slip, the pick list and the manifest. Every barcode drawn is recorded
with its page so the document can be read back before it is returned.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen.canvas import Canvas

from labels import codes, fonts, text
from labels.codes import Drawn
from labels.errors import LabelError
from labels.spec import Box
from labels.verify import check_drawn

PAPERS = {"a4": A4, "letter": LETTER}
MARGIN = 36.0
DPI = 203  # office laser printers are finer; 203 keeps modules whole dots on label printers too


@dataclass(frozen=True)
class Cell:
    """One table cell: text, width in points, alignment, weight."""

    text: str
    width: float
    align: str = "left"
    bold: bool = False
    size: float = 9.0


def paper_size(paper: str) -> tuple[float, float]:
    """(width, height) in points for "a4" or "letter"."""
    try:
        return PAPERS[paper.lower()]
    except KeyError:
        raise LabelError(f"paper: unknown paper {paper!r}; use one of {sorted(PAPERS)}") from None


class Sheet:
    """A canvas with a cursor that moves down the page and breaks onto new pages."""

    def __init__(self, paper: str, title: str, header: Callable[[Sheet], None] | None = None):
        fonts.register()
        self.width, self.height = paper_size(paper)
        self.buf = io.BytesIO()
        self.canvas = Canvas(self.buf, pagesize=(self.width, self.height), pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor("tote")
        self.title = title
        self.header = header
        self.page = 0
        self.y = self.height - MARGIN
        self.drawn: list[tuple[int, Drawn]] = []
        self._start_page()

    @property
    def left(self) -> float:
        return MARGIN

    @property
    def inner_width(self) -> float:
        return self.width - 2 * MARGIN

    def _start_page(self) -> None:
        self.y = self.height - MARGIN
        if self.header:
            self.header(self)

    def _footer(self) -> None:
        line = f"{self.title}  ·  page {self.page + 1}"
        fonts.draw_text(self.canvas, MARGIN, MARGIN / 2, line, 7)

    def need(self, height: float) -> None:
        """Start a new page unless `height` points are left above the bottom margin."""
        if self.y - height < MARGIN:
            self._footer()
            self.canvas.showPage()
            self.page += 1
            self._start_page()

    def text(
        self,
        paras: list[text.Para],
        width: float | None = None,
        x: float | None = None,
        gap: float = 4.0,
    ) -> float:
        """Flow paragraphs at the cursor (wrapped, never shrunk); returns the height used."""
        width = width or self.inner_width
        height = block_height(paras, width)
        self.need(height)
        box = Box(x if x is not None else self.left, self.y - height, width, height)
        text.draw(self.canvas, text.fit(paras, box))
        self.y -= height + gap
        return height

    def code128(
        self,
        value: str,
        height: float,
        x: float | None = None,
        *,
        field: str,
        text_size: float = 8.0,
        width: float | None = None,
    ) -> Drawn:
        """A Code128 barcode at the cursor (left-aligned with its quiet zone)."""
        width = width or self.inner_width
        self.need(height)
        box = Box(x if x is not None else self.left, self.y - height, width, height)
        d = codes.code128(
            self.canvas, value, box, DPI, text_size=text_size, field=field, align="left"
        )
        self.drawn.append((self.page, d))
        self.y -= height + 4
        return d

    def rule(self, weight: float = 0.6, gap: float = 4.0) -> None:
        """A horizontal line across the page at the cursor."""
        self.canvas.setLineWidth(weight)
        self.canvas.line(self.left, self.y, self.width - MARGIN, self.y)
        self.y -= gap

    def row(self, cells: list[Cell], min_height: float = 0.0, pad: float = 3.0) -> float:
        """A table row of wrapped cells; returns the row's top y (for drawing into it)."""
        heights = [
            block_height([text.Para(c.text, c.size, c.bold, c.size)], c.width - 2 * pad)
            for c in cells
        ]
        h = max([min_height, *heights]) + 2 * pad
        self.need(h)
        top = self.y
        x = self.left
        for c in cells:
            box = Box(x + pad, top - h + pad, c.width - 2 * pad, h - 2 * pad)
            para = text.Para(c.text, c.size, c.bold, c.size)
            lines = text.fit([para], box, align="center" if c.align == "center" else "left")
            if c.align == "right":
                lines = [_right(ln, box) for ln in lines]
            text.draw(self.canvas, lines)
            x += c.width
        self.y -= h
        self.canvas.setLineWidth(0.3)
        self.canvas.line(self.left, self.y, self.left + sum(c.width for c in cells), self.y)
        return top

    def finish(self, document: str, check: bool = True) -> bytes:
        """Close the PDF and, when `check`, read every barcode back; returns the PDF bytes."""
        self._footer()
        self.canvas.showPage()
        self.canvas.save()
        pdf = self.buf.getvalue()
        if check:
            check_drawn(document, pdf, self.drawn, DPI)
        return pdf


def _right(line: text.Line, box: Box) -> text.Line:
    return text.Line(
        line.text,
        box.right - line.width,
        line.y,
        line.size,
        line.bold,
        line.width,
        line.ascent,
        line.descent,
    )


def block_height(paras: list[text.Para], width: float, leading: float = 1.08) -> float:
    """Height that `paras` take wrapped to `width` at their own sizes."""
    h = 0.0
    for p in paras:
        if not p.text.strip():
            continue
        for t in text.wrap(p.text, width, p.size, p.bold):
            asc, desc = fonts.extent(t, p.bold)
            h += (asc + desc) * p.size + (leading - 1) * p.size
    return max(0.0, h)
