"""The shipping label as ZPL II for 203 dpi thermal printers, from the same LabelSpec.

Text is wrapped and sized by our own layout (Noto metrics; the printer's font 0 is narrower,
so a line that fits here fits there) and each line is sent as its own field, one field per
script run. Runs outside Latin-1 use the bundled Noto TTFs stored on the printer (see
UNICODE_FONTS; load labels/fonts/*.ttf once with the printer's tools) and ^PA advanced text
layout, which shapes Devanagari on Link-OS printers.
"""

from __future__ import annotations

import re

import segno

from labels import codes, fonts, text
from labels.model import LabelData
from labels.shipping import (
    PAD,
    _address_paras,
    _cod_paras,
    _detail_paras,
    _from_paras,
    tracking_box,
)
from labels.spec import Box, LabelSpec

DPI = 203
# Fonts stored on the printer's flash (E:), per bundled font family.
UNICODE_FONTS = {"ToteSans": "E:NOTOSANS.TTF", "ToteDeva": "E:NOTODEVA.TTF"}
_ESCAPE = re.compile(r"[\^~_\\]")


def field_data(value: str) -> str:
    """Field data safe inside ^FH_ ... ^FD: ^ ~ _ and \\ as _XX hex (UTF-8 bytes under ^CI28)."""
    return _ESCAPE.sub(lambda m: "".join(f"_{b:02X}" for b in m.group().encode()), value)


def unescape(value: str) -> str:
    """Inverse of field_data: what the printer will print."""
    return re.sub(
        r"(?:_[0-9A-Fa-f]{2})+",
        lambda m: bytes.fromhex(m.group().replace("_", "")).decode("utf-8"),
        value,
    )


class _Zpl:
    def __init__(self, spec: LabelSpec) -> None:
        self.scale = DPI / 72
        self.height = spec.height
        self.out: list[str] = []

    def d(self, v: float) -> int:
        return max(0, round(v * self.scale))

    def top(self, y_pt: float) -> int:
        """ZPL measures y from the top edge."""
        return self.d(self.height - y_pt)

    def box(self, b: Box, thickness: float, fill: bool = False) -> None:
        w, h, t = self.d(b.w), self.d(b.h), max(1, self.d(thickness))
        if fill:
            t = min(w, h)
        self.out.append(f"^FO{self.d(b.x)},{self.top(b.top)}^GB{w},{h},{t}^FS")

    def line_text(self, line: text.Line, reverse: bool = False) -> None:
        h = max(10, self.d(line.size))
        y = self.top(line.y + line.ascent)
        rev = "^FR" if reverse else ""
        x = line.x
        for run in fonts.runs(line.text, line.bold):
            family = run.font.removesuffix("-Bold")
            if family == "ToteSans" and _latin1(run.text):
                font = f"^A0N,{h},{h}"
            else:
                font = f"^A@N,{h},{h},{UNICODE_FONTS[family]}"
            self.out.append(f"^FO{self.d(x)},{y}{font}{rev}^FH_^FD{field_data(run.text)}^FS")
            x += fonts.text_width(run.text, line.size, line.bold)


def _latin1(s: str) -> bool:
    return all(ord(c) < 256 for c in s)


def render_zpl(spec: LabelSpec, data: LabelData) -> str:
    """The label as one ZPL II format (^XA ... ^XZ), UTF-8 text under ^CI28."""
    z = _Zpl(spec)
    o = z.out
    o += ["^XA", "^CI28", "^PA0,1,1,1", f"^PW{z.d(spec.width)}", f"^LL{z.d(spec.height)}", "^LH0,0"]
    p = spec.printable
    z.box(Box(p.x, spec.qr.y, p.w, p.top - spec.qr.y), 0.8)
    for b in (spec.ship_from, spec.ship_to, spec.carrier):
        z.box(Box(p.x, b.y, p.w, 0), 0.8)
    for region, paras in (
        (spec.ship_from, _from_paras(data)),
        (spec.ship_to, _address_paras(data)),
        (
            spec.carrier,
            [
                text.Para(data.carrier, 15, bold=True, min_size=6),
                text.Para(data.service, 10, min_size=5),
            ],
        ),
        (spec.details, _detail_paras(data)),
    ):
        for line in text.fit(paras, region.inset(PAD)):
            z.line_text(line)
    if data.cod is None:
        lines = text.fit(_cod_paras(data), spec.cod.inset(PAD))
    else:
        z.box(spec.cod.inset(PAD), 2.5)
        lines = text.fit(_cod_paras(data), spec.cod.inset(PAD + 4), align="center")
    for line in lines:
        z.line_text(line)
    z.box(spec.sort_code, 0, fill=True)
    for line in text.fit(
        [text.Para(data.routing_code, 26, bold=True, min_size=8)],
        spec.sort_code.inset(PAD),
        align="center",
    ):
        z.line_text(line, reverse=True)
    _qr(z, spec, data)
    _code128(z, spec, data)
    o.append("^XZ")
    return "\n".join(o) + "\n"


def _qr(z: _Zpl, spec: LabelSpec, data: LabelData) -> None:
    payload = codes.label_payload(data.tracking_number, data.order_id, data.ship_to.postal_code)
    n = len(segno.make(payload, error="m", micro=False, boost_error=False).matrix)
    side = z.d(min(spec.qr.w, spec.qr.h)) - 2 * codes.QR_QUIET * 2
    mag = max(1, min(10, side // n))
    x = z.d(spec.qr.x) + (z.d(spec.qr.w) - n * mag) // 2
    y = z.top(spec.qr.top) + (z.d(spec.qr.h) - n * mag) // 2
    # ^BQN,2,mag: model 2; "MA," = error correction M, automatic data mode.
    z.out.append(f"^FO{x},{y}^BQN,2,{mag}^FH_^FDMA,{field_data(payload)}^FS")


def _code128(z: _Zpl, spec: LabelSpec, data: LabelData) -> None:
    box = tracking_box(spec)
    modules = codes.code128_modules(data.tracking_number) + 2 * codes.QUIET_MODULES
    module = codes.module_dots(data.tracking_number, box.w, DPI)
    text_h = z.d(min(12, box.h / 6) * 1.45)
    height = z.d(box.h) - text_h
    x = z.d(box.x) + (z.d(box.w) - modules * module) // 2 + codes.QUIET_MODULES * module
    # Mode A (automatic) picks subsets itself, so digits pack as subset C like the PDF's.
    z.out.append(
        f"^FO{x},{z.top(box.top)}^BY{module}^BCN,{height},Y,N,N,A"
        f"^FH_^FD{field_data(data.tracking_number)}^FS"
    )
