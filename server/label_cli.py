"""`tote label ...`: render a shipping label from an order's JSON, or read a label's barcodes.

FILE for `render` holds {"order": <tote.v1.Order>, "ship_from": <tote.v1.Address>} in
protobuf's JSON mapping (lowerCamelCase or proto field names). Optional extras tote.v1.Order
lacks: "weight_grams" (the packed parcel's weight; `--weight-grams` wins over it, and a label
without one prints no weight), "service" (carrier service name), "sort_code" (carrier routing
code; default country and postal prefix), "ship_date" (YYYY-MM-DD; default today, UTC). Each
may be camelCase too.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click
from google.protobuf import json_format

from labels import (
    Address,
    LabelData,
    LabelError,
    Money,
    OrderLine,
    render_label,
    render_tote_labels,
    render_zpl,
    spec_for,
    verify,
)
from tote.v1 import common_pb2

_EXTRAS = {
    "weight_grams": "weightGrams",
    "service": "service",
    "sort_code": "sortCode",
    "ship_date": "shipDate",
    "ship_from": "shipFrom",
}


def _extra(doc: dict[str, Any], key: str) -> Any:
    return doc.get(key, doc.get(_EXTRAS[key]))


def _address(msg: common_pb2.Address) -> Address:
    return Address(
        name=msg.name,
        line1=msg.line1,
        line2=msg.line2,
        city=msg.city,
        region=msg.region,
        postal_code=msg.postal_code,
        country=msg.country,
        phone=msg.phone,
    )


def _money(msg: common_pb2.Money) -> Money:
    return Money(int(msg.amount_minor), msg.currency)


def label_data_from_json(
    doc: Any, today: dt.date | None = None, weight_grams: int | None = None
) -> LabelData:
    """Build the label's data from the parsed FILE; raises LabelError naming the bad field.

    weight_grams, when given, is the parcel's weight instead of the file's "weight_grams".
    """
    if not isinstance(doc, dict) or "order" not in doc:
        raise LabelError('order: FILE must be a JSON object with an "order" key')
    order = common_pb2.Order()
    ship_from = common_pb2.Address()
    try:
        json_format.ParseDict(doc["order"], order)
    except json_format.ParseError as e:
        raise LabelError(f"order: {e}") from None
    from_doc = _extra(doc, "ship_from")
    if from_doc is None:
        raise LabelError("ship_from: is required (the FC's address, a tote.v1.Address)")
    try:
        json_format.ParseDict(from_doc, ship_from)
    except json_format.ParseError as e:
        raise LabelError(f"ship_from: {e}") from None
    if not order.HasField("ship_to"):
        raise LabelError("order.ship_to: is required")
    shipment = order.shipments[0] if order.shipments else None
    tracking = order.tracking_number or (shipment.tracking_number if shipment else "")
    carrier = order.carrier or (shipment.carrier if shipment else "")
    cod = None
    if order.payment.method == "cod":
        if not order.HasField("total") or order.total.amount_minor <= 0:
            raise LabelError("order.total: a cash-on-delivery order needs the amount to collect")
        cod = _money(order.total)
    weight = weight_grams if weight_grams is not None else _extra(doc, "weight_grams")
    ship_date = _extra(doc, "ship_date")
    try:
        date = (
            dt.date.fromisoformat(ship_date)
            if ship_date
            else (today or dt.datetime.now(dt.UTC).date())
        )
    except (TypeError, ValueError):
        raise LabelError(f"ship_date: {ship_date!r} is not a YYYY-MM-DD date") from None
    lines = tuple(
        OrderLine(
            sku=ln.sku,
            quantity=ln.quantity,
            unit_price=_money(ln.unit_price) if ln.HasField("unit_price") else None,
        )
        for ln in order.lines
    )
    return LabelData(
        tracking_number=tracking,
        order_id=order.order_id,
        carrier=carrier,
        service=str(_extra(doc, "service") or ""),
        weight_grams=weight,
        ship_from=_address(ship_from),
        ship_to=_address(order.ship_to),
        ship_date=date,
        sort_code=str(_extra(doc, "sort_code") or ""),
        cod=cod,
        lines=lines,
        order_total=_money(order.total) if order.HasField("total") else None,
    )


@click.group(name="label")
def label() -> None:
    """Shipping labels: render them, read their barcodes back."""


@label.command()
@click.option(
    "--order-json",
    "order_json",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON file: {"order": tote.v1.Order, "ship_from": tote.v1.Address} (protobuf JSON)',
)
@click.option(
    "--weight-grams",
    type=click.IntRange(1, 1_000_000),
    help="the packed parcel's weight (instead of the file's weight_grams); "
    "without either the label prints no weight",
)
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "zpl"]), default="pdf", show_default=True
)
@click.option(
    "--size",
    type=click.Choice(["4x6", "a6"], case_sensitive=False),
    default="4x6",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Where to write the label ('-' for stdout).",
)
def render(order_json: Path, weight_grams: int | None, fmt: str, size: str, output: str) -> None:
    """Render the shipping label of an order (the PDF is read back before it is written)."""
    try:
        doc = json.loads(order_json.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise click.ClickException(f"{order_json}: not valid JSON ({e})") from None
    try:
        data = label_data_from_json(doc, weight_grams=weight_grams)
        spec = spec_for(size)
        content = render_label(spec, data) if fmt == "pdf" else render_zpl(spec, data).encode()
    except LabelError as e:
        raise click.ClickException(str(e)) from None
    if _write(content, output):
        click.echo(f"wrote {fmt} label for {data.tracking_number} to {output}", err=True)


@label.command(name="verify")
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dpi",
    default=203,
    show_default=True,
    type=click.IntRange(72, 1200),
    help="Resolution to rasterize at (the printer's).",
)
def verify_cmd(pdf: Path, dpi: int) -> None:
    """Print the barcodes read from every page of a PDF: page, symbology, data."""
    try:
        codes = verify(pdf.read_bytes(), dpi)
    except LabelError as e:
        raise click.ClickException(str(e)) from None
    if not codes:
        raise click.ClickException(f"{pdf}: no barcode could be read")
    for c in codes:
        click.echo(f"{c.page + 1}\t{c.symbology}\t{c.data}")


@label.command(name="tote")
@click.argument("tote_codes", nargs=-1, required=True, metavar="TOTE_CODE...")
@click.option("-o", "--output", required=True, help="PDF file to write ('-' for stdout).")
@click.option("--fc", "fc_id", default="", help="The FC, printed small under the barcode.")
def tote_cmd(tote_codes: tuple[str, ...], output: str, fc_id: str) -> None:
    """Print tote labels (4 x 2 in, one per code): e.g. `tote label tote T-0042 -o tote.pdf`."""
    from core.domain.totes import tote_code, tote_number

    printed = []
    for typed in tote_codes:
        number = tote_number(typed)
        if number is None:
            raise click.ClickException(f"{typed!r} is not a tote code: they read like T-0042 "
                                       "(the picker shows the tote's code with each task)")
        printed.append(tote_code(number))
    try:
        content = render_tote_labels(printed, fc_id)
    except LabelError as e:
        raise click.ClickException(str(e)) from None
    if _write(content, output):
        labels = "tote label" if len(printed) == 1 else "tote labels"
        click.echo(f"wrote {len(printed)} {labels} ({', '.join(printed)}) to {output}",
                   err=True)


def _write(content: bytes, output: str) -> bool:
    """Write to the file named, or to stdout for "-"; True when a file was written."""
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return False
    Path(output).write_bytes(content)
    return True
