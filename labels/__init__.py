"""tote labels: shipping labels (PDF, ZPL II), packing slips, pick lists, carrier manifests,
tote labels.

Everything printed is read back with pyzbar before it is returned: a label that does not
scan is never printed. The package imports only the standard library, ReportLab, pyzbar,
pypdfium2, Pillow, uharfbuzz and segno, so the server and the desktop console can both use it.
"""

from labels.codes import label_payload, parse_label_payload
from labels.errors import LabelDataError, LabelError, UnreadableBarcodeError
from labels.gs1 import check_digit, gtin14, is_valid_gtin, is_valid_sscc, make_sscc
from labels.manifest import render_manifest
from labels.model import (
    Address,
    LabelData,
    Manifest,
    ManifestParcel,
    Money,
    OrderLine,
    PickLine,
    PickList,
)
from labels.money import format_amount, format_money, format_weight, plain_amount
from labels.packing_slip import render_packing_slip
from labels.pick_list import render_pick_list
from labels.shipping import render_label, render_label_with_layout
from labels.spec import LABEL_4X6, LABEL_A6, LabelSpec, spec_for
from labels.tote_label import render_tote_labels
from labels.verify import ReadCode, decode_image, verify
from labels.zpl import render_zpl

__all__ = [
    "LABEL_4X6",
    "LABEL_A6",
    "Address",
    "LabelData",
    "LabelDataError",
    "LabelError",
    "LabelSpec",
    "Manifest",
    "ManifestParcel",
    "Money",
    "OrderLine",
    "PickLine",
    "PickList",
    "ReadCode",
    "UnreadableBarcodeError",
    "check_digit",
    "decode_image",
    "format_amount",
    "format_money",
    "format_weight",
    "plain_amount",
    "gtin14",
    "is_valid_gtin",
    "is_valid_sscc",
    "label_payload",
    "make_sscc",
    "parse_label_payload",
    "render_label",
    "render_label_with_layout",
    "render_manifest",
    "render_packing_slip",
    "render_pick_list",
    "render_tote_labels",
    "render_zpl",
    "spec_for",
    "verify",
]
