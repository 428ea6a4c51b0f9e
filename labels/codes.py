"""Barcodes drawn on a ReportLab canvas with every module a whole number of printer dots.

Thermal printers cannot print a fraction of a dot; a module of 2.4 dots prints as 2 or 3 and
bars grow uneven. So module widths are chosen in dots and barcodes start on the dot grid.
QR codes are drawn as one filled path from segno's matrix: ReportLab's QR widget costs
18-30 ms a label, and one path leaves no anti-aliasing seams between modules.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import segno
from reportlab.graphics.barcode.code128 import Code128

from labels import fonts
from labels.errors import LabelDataError, LabelError
from labels.spec import Box

QUIET_MODULES = 10  # Code128 and EAN/ITF quiet zone each side, in modules
QR_QUIET = 4
MIN_MODULE_DOTS_203 = 3


@dataclass(frozen=True)
class Drawn:
    """A barcode on a page: what a scanner must read from it, and where (quiet zone included)."""

    symbology: str  # pyzbar's names: CODE128, QRCODE, EAN13, EAN8, UPCA, I25
    data: str
    box: Box


def snap(v: float, dot: float) -> float:
    """`v` moved to the nearest printer dot."""
    return round(v / dot) * dot


def label_payload(tracking_number: str, order_id: str, postal_code: str) -> str:
    """The QR payload of a shipping label: compact ASCII JSON {"t", "o", "p"}."""
    return json.dumps(
        {"t": tracking_number, "o": order_id, "p": postal_code},
        separators=(",", ":"),
        ensure_ascii=True,
    )


def parse_label_payload(text: str) -> dict[str, str]:
    """Read a label QR payload back into tracking_number, order_id, postal_code."""
    raw = json.loads(text)
    return {"tracking_number": raw["t"], "order_id": raw["o"], "postal_code": raw["p"]}


def code128_modules(value: str) -> int:
    """Width of `value` as Code128 in modules, quiet zones excluded."""
    return int(Code128(value, barWidth=1, quiet=0, humanReadable=0).width)


def module_dots(value: str, width: float, dpi: int, max_dots: int = 4) -> int:
    """Dots per Code128 module so that `value` and its quiet zones fit `width` points."""
    modules = code128_modules(value) + 2 * QUIET_MODULES
    return min(max_dots, math.floor(width / (modules * 72 / dpi)))


def code128(
    canvas,
    value: str,
    box: Box,
    dpi: int,
    *,
    text_size: float = 0.0,
    max_dots: int = 4,
    field: str = "barcode",
    align: str = "center",
) -> Drawn:
    """Draw `value` as Code128 in `box` (centred or left), with its text under the bars."""
    dot = 72 / dpi
    modules = code128_modules(value) + 2 * QUIET_MODULES
    k = module_dots(value, box.w, dpi, max_dots)
    # zbar (and worn thermal heads) misread 2-dot modules at 203 dpi; 3 dots is the floor.
    if round(k * 203 / dpi, 6) < MIN_MODULE_DOTS_203:
        raise LabelDataError(
            field,
            f"{value!r} needs {modules} Code128 modules; at the minimum module of "
            f"{MIN_MODULE_DOTS_203} dots (203 dpi) only "
            f"{math.floor(box.w / (MIN_MODULE_DOTS_203 * 72 / 203))} "
            f"fit in {box.w:.0f} pt",
        )
    module = k * dot
    width = modules * module
    x0 = snap(box.x + (box.w - width) / 2 if align == "center" else box.x, dot)
    text_h = text_size * 1.45 if text_size else 0.0
    y0 = snap(box.y + text_h, dot)
    bar_h = box.top - y0
    bars = Code128(value, barWidth=module, barHeight=bar_h, quiet=0, humanReadable=0)
    bars.drawOn(canvas, x0 + QUIET_MODULES * module, y0)
    if text_size:
        w = fonts.text_width(value, text_size)
        fonts.draw_text(canvas, x0 + (width - w) / 2, box.y + text_size * 0.35, value, text_size)
    return Drawn("CODE128", value, Box(x0, y0, width, bar_h))


def qr(canvas, payload: str, box: Box, dpi: int, *, error: str = "m") -> Drawn:
    """Draw `payload` as the largest QR code (whole dots per module) that fits in `box`."""
    dot = 72 / dpi
    code = segno.make(payload, error=error, micro=False, boost_error=False)
    n = len(code.matrix)
    k = math.floor(min(box.w, box.h) / ((n + 2 * QR_QUIET) * dot))
    if k < 2:
        raise LabelError(f"qr: payload of {len(payload)} bytes is too long for {box.w:.0f} pt")
    module = k * dot
    side = (n + 2 * QR_QUIET) * module
    x0 = snap(box.x + (box.w - side) / 2, dot)
    y0 = snap(box.y + (box.h - side) / 2, dot)
    top = y0 + side - QR_QUIET * module
    ops = []
    for r, row in enumerate(code.matrix):
        y = top - (r + 1) * module
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                x = x0 + (QR_QUIET + start) * module
                ops.append(f"{x:.4f} {y:.4f} {(c - start) * module:.4f} {module:.4f} re")
            else:
                c += 1
    # One filled path of raw PDF operators: ReportLab's path API formats every number through
    # its generic float printer, a measurable share of a label's render time (~1 ms).
    canvas.addLiteral("\n".join(ops) + "\nf")
    return Drawn("QRCODE", payload, Box(x0, y0, side, side))


# EAN/UPC element patterns (widths of space, bar, space, bar) for L-codes; R = L mirrored in
# colour, G = R reversed. Parity of the first digit picks L or G for the left half.
_L = ["3211", "2221", "2122", "1411", "1132", "1231", "1114", "1312", "1213", "3112"]
_PARITY = [
    "LLLLLL",
    "LLGLGG",
    "LLGGLG",
    "LLGGGL",
    "LGLLGG",
    "LGGLLG",
    "LGGGLL",
    "LGLGLG",
    "LGLGGL",
    "LGGLGL",
]
_ITF = ["nnwwn", "wnnnw", "nwnnw", "wwnnn", "nnwnw", "wnwnn", "nwwnn", "nnnww", "wnnwn", "nwnwn"]


def _ean_runs(digits: str) -> list[int]:
    """Alternating bar/space widths in modules, starting with a bar (guards included)."""
    if len(digits) == 8:
        left, right, parity = digits[:4], digits[4:], "LLLL"
    else:
        digits = digits.zfill(13)
        left, right, parity = digits[1:7], digits[7:], _PARITY[int(digits[0])]
    runs = [1, 1, 1]
    for d, p in zip(left, parity, strict=True):
        w = [int(c) for c in _L[int(d)]]
        runs += w[::-1] if p == "G" else w
    runs += [1, 1, 1, 1, 1]
    for d in right:
        runs += [int(c) for c in _L[int(d)]]
    runs += [1, 1, 1]
    return runs


def _itf_runs(digits: str, wide: float) -> list[float]:
    runs: list[float] = [1, 1, 1, 1]  # start: narrow bar, space, bar, space
    for a, b in zip(digits[::2], digits[1::2], strict=True):
        for bar, space in zip(_ITF[int(a)], _ITF[int(b)], strict=True):
            runs += [wide if bar == "w" else 1, wide if space == "w" else 1]
    return runs + [wide, 1, 1]  # stop: wide bar, space, bar


def gtin(canvas, value: str, box: Box, dpi: int, *, text_size: float = 7.0, dots: int = 3) -> Drawn:
    """Draw a GTIN: EAN-8, UPC-A, EAN-13, or ITF-14 for GTIN-14, at `dots` per module."""
    dot = 72 / dpi
    module = dots * dot
    runs, symbology = _runs(value, dots)
    width = (sum(runs) + 2 * QUIET_MODULES) * module
    x0 = snap(box.x, dot)
    text_h = text_size * 1.4
    y0 = snap(box.y + text_h, dot)
    bar_h = box.top - y0
    path = canvas.beginPath()
    x = x0 + QUIET_MODULES * module
    for i, r in enumerate(runs):
        if i % 2 == 0:
            path.rect(x, y0, r * module, bar_h)
        x += r * module
    canvas.drawPath(path, stroke=0, fill=1)
    tw = fonts.text_width(value, text_size)
    fonts.draw_text(canvas, x0 + (width - tw) / 2, box.y + text_size * 0.3, value, text_size)
    return Drawn(symbology, value, Box(x0, y0, width, bar_h))


def _runs(value: str, dots: int) -> tuple[list[float], str]:
    if len(value) == 14:
        # wide:narrow of 2.5 rounded to whole dots (2:5, 3:8) so both print exactly
        return _itf_runs(value, wide=round(2.5 * dots) / dots), "I25"
    runs: list[float] = list(_ean_runs(value))
    return runs, {8: "EAN8", 12: "UPCA"}.get(len(value), "EAN13")


def gtin_width(value: str, dpi: int, dots: int = 3) -> float:
    """Width in points that `gtin` needs for `value`, quiet zones included."""
    return (sum(_runs(value, dots)[0]) + 2 * QUIET_MODULES) * dots * 72 / dpi
