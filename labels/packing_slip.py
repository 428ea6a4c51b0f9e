"""The packing slip that goes in the box: who it is for, what is in it, what to collect."""

from __future__ import annotations

from labels import codes, fonts, text
from labels.errors import LabelDataError
from labels.model import Address, LabelData
from labels.money import format_money, format_weight, total
from labels.sheet import DPI, Cell, Sheet


def _address(title: str, a: Address) -> list[text.Para]:
    lines = [a.line1, a.line2, a.locality(), a.country]
    return [
        text.Para(title, 7, bold=True, min_size=7),
        text.Para(a.name, 11, bold=True, min_size=11),
        *(text.Para(s, 9, min_size=9) for s in lines if s),
        *([text.Para(f"Tel {a.phone}", 8, min_size=8)] if a.phone else []),
    ]


def _header(sheet: Sheet, data: LabelData) -> None:
    top = sheet.y
    half = sheet.inner_width / 2
    sheet.text(
        [
            text.Para("PACKING SLIP", 18, bold=True, min_size=18),
            text.Para(f"Order {data.order_id}", 10, min_size=10),
        ],
        width=half,
    )
    below_title = sheet.y
    if codes.module_dots(data.order_id, half, DPI) >= codes.MIN_MODULE_DOTS_203:
        sheet.y = top
        sheet.code128(data.order_id, 44, x=sheet.left + half, width=half, field="order_id")
        sheet.y = min(sheet.y, below_title) - 6
    else:  # a long id (tote's are 30 characters) fits only across the page, under the title
        sheet.code128(data.order_id, 44, field="order_id")
        sheet.y -= 2


@fonts.one_at_a_time
def render_packing_slip(data: LabelData, paper: str = "a4", *, check: bool = True) -> bytes:
    """The packing slip PDF on A4 or Letter; barcodes are read back before it is returned."""
    if not data.lines:
        raise LabelDataError("lines", "a packing slip needs at least one order line")
    sheet = Sheet(paper, f"Packing slip {data.order_id}", header=lambda s: _header(s, data))
    half = sheet.inner_width / 2
    top = sheet.y
    sheet.text(_address("SHIP TO", data.ship_to), width=half - 10)
    left_bottom = sheet.y
    sheet.y = top
    sheet.text(_address("FROM", data.ship_from), width=half - 10, x=sheet.left + half)
    sheet.y = min(sheet.y, left_bottom) - 6
    info = (
        f"Order {data.order_id}   ·   Shipped {data.ship_date.isoformat()}   ·   "
        f"{data.carrier} {data.service}   ·   Tracking {data.tracking_number}"
    )
    if data.weight_grams is not None:
        info += f"   ·   Weight {format_weight(data.weight_grams)}"
    sheet.text([text.Para(info, 9, min_size=9)])
    sheet.rule(1.0)
    w = sheet.inner_width
    cols = [80.0, w - 80 - 40 - 85 - 90, 40.0, 85.0, 90.0]
    head = ["SKU", "Item", "Qty", "Unit price", "Amount"]
    aligns = ["left", "left", "right", "right", "right"]
    sheet.row([Cell(h, c, a, bold=True) for h, c, a in zip(head, cols, aligns, strict=True)])
    amounts = []
    for ln in data.lines:
        price = format_money(ln.unit_price) if ln.unit_price else ""
        amount = ""
        if ln.unit_price:
            m = type(ln.unit_price)(
                ln.unit_price.amount_minor * ln.quantity, ln.unit_price.currency
            )
            amounts.append(m)
            amount = format_money(m)
        values = [ln.sku, ln.description or "", str(ln.quantity), price, amount]
        sheet.row([Cell(v, c, a) for v, c, a in zip(values, cols, aligns, strict=True)])
    units = sum(ln.quantity for ln in data.lines)
    summary = [f"{text.plural(len(data.lines), 'line')}, {text.plural(units, 'item')}"]
    subtotal = total(amounts, "lines.unit_price")
    if subtotal:
        summary.append(f"Items total {format_money(subtotal)}")
    if data.order_total:
        summary.append(f"Order total {format_money(data.order_total)}")
    sheet.y -= 4
    for s in summary:
        sheet.row([Cell(s, sheet.inner_width, "right", bold=True, size=10)])
    if data.cod:
        sheet.y -= 8
        sheet.text(
            [
                text.Para("CASH ON DELIVERY", 10, bold=True, min_size=10),
                text.Para(
                    f"Amount to collect: {format_money(data.cod)}", 14, bold=True, min_size=14
                ),
            ]
        )
    else:
        sheet.text([text.Para("Paid online: nothing to collect.", 9, min_size=9)])
    return sheet.finish(f"packing slip {data.order_id}", check=check)
