"""The carrier manifest: the parcels handed over, their totals and COD, and both signatures."""

from __future__ import annotations

from labels import fonts, text
from labels.model import Manifest
from labels.money import format_money, format_weight, totals_by_currency
from labels.sheet import Cell, Sheet

BARCODE_W = 272.0  # an 18-character tracking number at 3-dot modules needs 270 pt
ROW_H = 40.0


def _cols(w: float) -> list[float]:
    return [24.0, BARCODE_W, w - 24 - BARCODE_W - 50 - 66, 50.0, 66.0]


def _header(sheet: Sheet, m: Manifest) -> None:
    top = sheet.y
    half = sheet.inner_width / 2
    fc = m.ship_from
    sheet.text(
        [
            text.Para("CARRIER MANIFEST", 18, bold=True, min_size=18),
            text.Para(f"{m.manifest_id}  ·  {m.carrier}", 11, bold=True, min_size=11),
            text.Para(f"Handed over {m.handed_over:%Y-%m-%d %H:%M}", 9, min_size=9),
            text.Para(f"From {fc.name}, {fc.line1}, {fc.locality()}", 8, min_size=8),
        ],
        width=half,
    )
    below = sheet.y
    sheet.y = top
    sheet.code128(m.manifest_id, 44, x=sheet.left + half, width=half, field="manifest_id")
    sheet.y = min(sheet.y, below) - 4
    head = ["#", "Tracking number", "Order / destination", "Weight", "COD"]
    aligns = ["left", "left", "left", "right", "right"]
    cols = _cols(sheet.inner_width)
    sheet.row([Cell(h, c, a, bold=True) for h, c, a in zip(head, cols, aligns, strict=True)])


def _signature_boxes(sheet: Sheet, m: Manifest) -> None:
    height = 110.0
    sheet.need(height + 10)
    sheet.y -= 10
    c = sheet.canvas
    gap = 16.0
    w = (sheet.inner_width - gap) / 2
    titles = [f"Handed over by ({m.ship_from.name})", f"Received by ({m.carrier})"]
    for i, title in enumerate(titles):
        x = sheet.left + i * (w + gap)
        c.setLineWidth(0.8)
        c.rect(x, sheet.y - height, w, height, stroke=1, fill=0)
        sheet_y = sheet.y
        sheet.text([text.Para(title, 9, bold=True, min_size=9)], width=w - 12, x=x + 6)
        sheet.y = sheet_y
        for j, label in enumerate(["Name", "Signature", "Date / time"]):
            y = sheet.y - 40 - j * 26
            fonts.draw_text(c, x + 6, y + 3, label, 8)
            c.setLineWidth(0.4)
            c.line(x + 70, y, x + w - 8, y)
    sheet.y -= height


@fonts.one_at_a_time
def render_manifest(m: Manifest, paper: str = "a4", *, check: bool = True) -> bytes:
    """The manifest PDF: one row per parcel with its tracking barcode, totals, signature boxes."""
    sheet = Sheet(paper, f"Manifest {m.manifest_id}", header=lambda s: _header(s, m))
    cols = _cols(sheet.inner_width)
    for i, p in enumerate(m.parcels, start=1):
        cod = format_money(p.cod) if p.cod else "-"
        top = sheet.row(
            [
                Cell(str(i), cols[0]),
                Cell("", cols[1]),
                Cell(f"{p.order_id}  {p.destination}", cols[2], size=8),
                Cell(format_weight(p.weight_grams), cols[3], "right"),
                Cell(cod, cols[4], "right", bold=p.cod is not None),
            ],
            min_height=ROW_H - 6,
        )
        below = sheet.y
        sheet.y = top - 3
        sheet.code128(
            p.tracking_number,
            ROW_H - 6,
            x=sheet.left + cols[0],
            width=cols[1],
            field=f"parcels[{i - 1}].tracking_number",
            text_size=7,
        )
        sheet.y = below
    weight = sum(p.weight_grams for p in m.parcels)
    cods = totals_by_currency(p.cod for p in m.parcels if p.cod)
    cod_count = sum(1 for p in m.parcels if p.cod)
    sheet.y -= 6
    lines = [
        f"Parcels: {len(m.parcels)}",
        f"Total weight: {format_weight(weight)}",
        f"COD parcels: {cod_count}",
    ]
    lines += [f"COD to collect ({c.currency}): {format_money(c)}" for c in cods]
    sheet.text([text.Para(s, 11, bold=True, min_size=11) for s in lines])
    _signature_boxes(sheet, m)
    return sheet.finish(f"manifest {m.manifest_id}", check=check)
