"""The shipping label (4x6 in or A6) as a PDF, read back before it is handed out."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.pdfgen.canvas import Canvas

from labels import codes, fonts, text
from labels.codes import Drawn
from labels.model import LabelData
from labels.money import format_money, format_weight
from labels.spec import Box, LabelSpec
from labels.verify import check_drawn

PAD = 4.0  # points between a region's rule and its text
RULE = 0.8


@dataclass
class LabelLayout:
    """Where everything went: text lines per region and the barcodes drawn."""

    lines: dict[str, list[text.Line]] = field(default_factory=dict)
    barcodes: list[Drawn] = field(default_factory=list)
    regions: dict[str, Box] = field(default_factory=dict)


def _address_paras(data: LabelData) -> list[text.Para]:
    to = data.ship_to
    paras = [
        text.Para("SHIP TO", 7, bold=True, min_size=5),
        text.Para(to.name, 16, bold=True, min_size=6),
        text.Para(to.line1, 11, min_size=5),
        text.Para(to.line2, 11, min_size=5),
        text.Para(to.locality(), 12, bold=True, min_size=6),
        text.Para(to.country.upper(), 11, bold=True, min_size=6),
    ]
    if to.phone:
        paras.append(text.Para(f"Tel {to.phone}", 9, min_size=5))
    return paras


def _from_paras(data: LabelData) -> list[text.Para]:
    fc = data.ship_from
    street = ", ".join(p for p in (fc.line1, fc.line2) if p)
    return [
        text.Para(f"FROM  {fc.name}", 8, bold=True, min_size=5),
        text.Para(street, 7, min_size=4.5),
        text.Para(f"{fc.locality()}, {fc.country}", 7, min_size=4.5),
    ]


def _detail_paras(data: LabelData) -> list[text.Para]:
    paras = [
        text.Para(f"Order {data.order_id}", 9, bold=True, min_size=5),
        text.Para(f"Date {data.ship_date.isoformat()}", 8, min_size=5),
    ]
    if data.weight_grams is not None:  # an unweighed parcel's label prints no weight
        paras.append(
            text.Para(f"Weight {format_weight(data.weight_grams)}", 9, bold=True, min_size=5)
        )
    return paras


def _rules(c: Canvas, spec: LabelSpec) -> None:
    # No frame beside the tracking barcode: its quiet zones reach into the margins.
    c.setLineWidth(RULE)
    p = spec.printable
    c.line(p.x, p.top, p.right, p.top)
    c.line(p.x, p.top, p.x, spec.qr.y)
    c.line(p.right, p.top, p.right, spec.qr.y)
    for b in (spec.ship_from, spec.ship_to, spec.carrier, spec.qr):
        c.line(p.x, b.y, p.right, b.y)
    c.line(spec.sort_code.x, spec.sort_code.y, spec.sort_code.x, spec.sort_code.top)
    c.line(spec.qr.x, spec.qr.y, spec.qr.x, spec.qr.top)


def _sort_code(c: Canvas, spec: LabelSpec, code: str) -> list[text.Line]:
    # White on black so the sorter's eye finds it from across the belt.
    box = spec.sort_code.inset(RULE / 2)
    c.rect(box.x, box.y, box.w, box.h, stroke=0, fill=1)
    lines = text.fit([text.Para(code, 26, bold=True, min_size=8)], box.inset(PAD), align="center")
    if lines:  # centre the block vertically
        used = lines[0].box.top - lines[-1].box.y
        dy = -(box.inset(PAD).h - used) / 2
        lines = [_shift(ln, dy) for ln in lines]
    c.setFillGray(1)
    text.draw(c, lines)
    c.setFillGray(0)
    return lines


def _shift(line: text.Line, dy: float) -> text.Line:
    return text.Line(
        line.text, line.x, line.y + dy, line.size, line.bold, line.width, line.ascent, line.descent
    )


def _cod_paras(data: LabelData) -> list[text.Para]:
    if data.cod is None:
        return [text.Para("PREPAID - collect nothing", 8, min_size=5)]
    return [
        text.Para("COD - COLLECT", 8, bold=True, min_size=5),
        text.Para(format_money(data.cod), 18, bold=True, min_size=7),
    ]


def _cod(c: Canvas, spec: LabelSpec, data: LabelData) -> list[text.Line]:
    box = spec.cod.inset(PAD)
    if data.cod is None:
        return text.fit(_cod_paras(data), box)
    c.setLineWidth(2.5)
    c.rect(box.x, box.y, box.w, box.h, stroke=1, fill=0)
    c.setLineWidth(RULE)
    return text.fit(_cod_paras(data), box.inset(4), align="center")


def tracking_box(spec: LabelSpec) -> Box:
    """Where the tracking barcode and its text go: the band's full width, padded top and bottom."""
    t = spec.tracking
    return Box(t.x, t.y + PAD, t.w, t.h - 2 * PAD)


def draw_label(c: Canvas, spec: LabelSpec, data: LabelData) -> LabelLayout:
    """Draw the label on a canvas whose page is spec.width x spec.height."""
    out = LabelLayout()
    _rules(c, spec)
    regions = {
        "ship_from": (spec.ship_from, _from_paras(data)),
        "ship_to": (spec.ship_to, _address_paras(data)),
        "carrier": (
            spec.carrier,
            [
                text.Para(data.carrier, 15, bold=True, min_size=6),
                text.Para(data.service, 10, min_size=5),
            ],
        ),
        "details": (spec.details, _detail_paras(data)),
    }
    for name, (region, paras) in regions.items():
        out.regions[name] = region.inset(PAD)
        lines = text.fit(paras, region.inset(PAD))
        text.draw(c, lines)
        out.lines[name] = lines
    out.regions["sort_code"] = spec.sort_code.inset(RULE / 2 + PAD)
    out.lines["sort_code"] = _sort_code(c, spec, data.routing_code)
    out.regions["cod"] = spec.cod.inset(PAD)
    out.lines["cod"] = _cod(c, spec, data)
    text.draw(c, out.lines["cod"])
    payload = codes.label_payload(data.tracking_number, data.order_id, data.ship_to.postal_code)
    out.barcodes.append(codes.qr(c, payload, spec.qr.inset(RULE), spec.dpi))
    track = tracking_box(spec)
    out.barcodes.append(
        codes.code128(
            c,
            data.tracking_number,
            track,
            spec.dpi,
            text_size=min(12, track.h / 6),
            field="tracking_number",
        )
    )
    return out


@fonts.one_at_a_time
def render_label_with_layout(
    spec: LabelSpec, data: LabelData, *, check: bool = True
) -> tuple[bytes, LabelLayout]:
    """Render the label PDF and return it with its layout (for tests and previews)."""
    fonts.register()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(spec.width, spec.height), pageCompression=1)
    c.setTitle(f"Label {data.tracking_number}")
    c.setAuthor("tote")
    layout = draw_label(c, spec, data)
    c.showPage()
    c.save()
    pdf = buf.getvalue()
    if check:
        check_drawn(
            f"label {data.tracking_number}", pdf, [(0, d) for d in layout.barcodes], spec.dpi
        )
    return pdf, layout


def render_label(spec: LabelSpec, data: LabelData) -> bytes:
    """Render a shipping label PDF; raises UnreadableBarcodeError if a barcode does not read."""
    return render_label_with_layout(spec, data)[0]
