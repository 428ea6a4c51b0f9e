"""The pick list: one row per bin visit, in walking order (bins sorted naturally), with GTINs."""

from __future__ import annotations

import re

from labels import codes, fonts, text
from labels.model import PickLine, PickList
from labels.sheet import DPI, Cell, Sheet
from labels.spec import Box

ROW_HEIGHT = 46.0
GTIN_DOTS = 3


def bin_order(bin_code: str) -> tuple:
    """Sort key for bins: numbers compare as numbers, so A-2-9 comes before A-2-10."""
    parts = re.split(r"(\d+)", bin_code.upper())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def walk_order(lines: tuple[PickLine, ...]) -> list[PickLine]:
    """The lines in the order a picker visits the bins."""
    return sorted(lines, key=lambda ln: (bin_order(ln.bin), ln.sku, ln.order_id))


def _header(sheet: Sheet, pick: PickList) -> None:
    top = sheet.y
    half = sheet.inner_width / 2
    units = sum(ln.quantity for ln in pick.lines)
    sheet.text(
        [
            text.Para("PICK LIST", 18, bold=True, min_size=18),
            text.Para(f"{pick.pick_list_id}  ·  FC {pick.fc_id}", 10, min_size=10),
            text.Para(
                f"{pick.created:%Y-%m-%d %H:%M}  ·  {text.plural(len(pick.lines), 'line')}, "
                f"{text.plural(units, 'unit')}",
                9,
                min_size=9,
            ),
        ],
        width=half,
    )
    below = sheet.y
    if codes.module_dots(pick.pick_list_id, half, DPI) >= codes.MIN_MODULE_DOTS_203:
        sheet.y = top
        sheet.code128(pick.pick_list_id, 44, x=sheet.left + half, width=half,
                      field="pick_list_id")
        sheet.y = min(sheet.y, below) - 4
    else:  # a long id (tote's are 30 characters) fits only across the page, under the title
        sheet.code128(pick.pick_list_id, 44, field="pick_list_id")
    w = sheet.inner_width
    sheet.row([Cell(h, c, bold=True) for h, c in zip(_HEAD, _cols(w), strict=True)])


_HEAD = ["", "Bin", "Item", "Qty", "Order", "GTIN"]


def _cols(w: float) -> list[float]:
    gtin_w = 160.0  # an ITF-14 at 3-dot modules needs 155 pt with its quiet zones
    return [20.0, 70.0, w - 20 - 70 - 36 - 90 - gtin_w, 36.0, 90.0, gtin_w]


@fonts.one_at_a_time
def render_pick_list(pick: PickList, paper: str = "a4", *, check: bool = True) -> bytes:
    """The pick list PDF, lines by bin, each with its GTIN barcode; barcodes read back."""
    sheet = Sheet(paper, f"Pick list {pick.pick_list_id}", header=lambda s: _header(s, pick))
    cols = _cols(sheet.inner_width)
    for ln in walk_order(pick.lines):
        item = f"{ln.sku}  {ln.description}".strip()
        top = sheet.row(
            [
                Cell("", cols[0]),
                Cell(ln.bin, cols[1], bold=True, size=12),
                Cell(item, cols[2]),
                Cell(str(ln.quantity), cols[3], "right", bold=True, size=14),
                Cell(ln.order_id, cols[4], size=8),
                Cell("", cols[5]),
            ],
            min_height=ROW_HEIGHT - 6,
        )
        c = sheet.canvas
        c.setLineWidth(0.8)
        c.rect(sheet.left + 4, top - 16, 11, 11, stroke=1, fill=0)  # tick box
        x = sheet.left + sum(cols[:5])
        box = Box(x, sheet.y + 3, cols[5], ROW_HEIGHT - 6)
        d = codes.gtin(c, ln.gtin, box, DPI, text_size=7, dots=GTIN_DOTS)
        sheet.drawn.append((sheet.page, d))
    return sheet.finish(f"pick list {pick.pick_list_id}", check=check)
