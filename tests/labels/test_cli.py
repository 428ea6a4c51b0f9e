"""`tote label render` / `tote label verify` through click's CliRunner, real PDFs and zbar."""

from __future__ import annotations

import json
import subprocess
import sys

import pypdfium2
import pytest
from click.testing import CliRunner
from reportlab.pdfgen.canvas import Canvas

from labels import verify
from labels.codes import label_payload
from server.label_cli import label
from tests.harness import ROOT

ORDER = {
    "orderId": "ORD-2026-000777",
    "customerId": "cust-9",
    "status": "ORDER_STATUS_PACKED",
    "lines": [
        {"sku": "SKU-1", "quantity": 2, "unitPrice": {"amountMinor": "49900", "currency": "INR"}},
        {"sku": "SKU-2", "quantity": 1, "unitPrice": {"amountMinor": "25050", "currency": "INR"}},
    ],
    "shipTo": {
        "name": "अनन्या शर्मा",
        "line1": "Flat 4B, श्री साई अपार्टमेंट, 12th Main Road",
        "city": "Bengaluru",
        "region": "Karnataka",
        "postalCode": "560038",
        "country": "India",
        "phone": "+91 98450 12345",
        "latitude": 12.97,
        "longitude": 77.64,
    },
    "total": {"amountMinor": "129850", "currency": "INR"},
    "payment": {"method": "cod", "state": "cod_pending"},
    "fcId": "BLR-N",
    "carrier": "BlueDart",
    "trackingNumber": "1Z999AA10123456784",
    "createdAt": "2026-11-25T09:30:00Z",
}
SHIP_FROM = {
    "name": "tote FC Bengaluru North",
    "line1": "Plot 14, KIADB Industrial Area",
    "city": "Bengaluru",
    "postalCode": "562149",
    "country": "India",
}


def _snake(obj):
    """The same document with proto field names, as json_format also accepts."""
    if isinstance(obj, dict):
        return {
            "".join("_" + c.lower() if c.isupper() else c for c in k): _snake(v)
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_snake(v) for v in obj]
    return obj


def _write(tmp_path, doc) -> str:
    path = tmp_path / "order.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("spelling", ["camel", "snake"])
def test_render_pdf_then_verify_prints_the_codes(tmp_path, spelling):
    doc = {"order": ORDER, "ship_from": SHIP_FROM, "weight_grams": 1250}
    if spelling == "snake":
        doc = _snake(doc)
    out = tmp_path / "label.pdf"
    runner = CliRunner()
    result = runner.invoke(
        label, ["render", "--order-json", _write(tmp_path, doc), "--size", "a6", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    payload = label_payload("1Z999AA10123456784", "ORD-2026-000777", "560038")
    assert sorted(r.key for r in verify(out.read_bytes())) == [
        ("CODE128", "1Z999AA10123456784"),
        ("QRCODE", payload),
    ]
    result = runner.invoke(label, ["verify", str(out)])
    assert result.exit_code == 0, result.output
    assert "1\tCODE128\t1Z999AA10123456784" in result.output.splitlines()
    assert f"1\tQRCODE\t{payload}" in result.output.splitlines()


def test_render_zpl_writes_a_format_with_the_cod_amount(tmp_path):
    doc = {"order": ORDER, "shipFrom": SHIP_FROM, "weightGrams": 800, "service": "Express"}
    out = tmp_path / "label.zpl"
    result = CliRunner().invoke(
        label, ["render", "--order-json", _write(tmp_path, doc), "--format", "zpl", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    zpl = out.read_text(encoding="utf-8")
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert "^FD1Z999AA10123456784^FS" in zpl
    assert "^FD₹1,298.50^FS" in zpl and "^FDExpress^FS" in zpl


def test_tracking_number_comes_from_the_first_shipment_when_the_order_has_none(tmp_path):
    order = dict(ORDER, trackingNumber="", carrier="")
    order["shipments"] = [{"shipmentId": "S1", "carrier": "Delhivery", "trackingNumber": "DL123"}]
    doc = {"order": order, "ship_from": SHIP_FROM, "weight_grams": 500}
    out = tmp_path / "l.pdf"
    result = CliRunner().invoke(
        label, ["render", "--order-json", _write(tmp_path, doc), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert ("CODE128", "DL123") in {r.key for r in verify(out.read_bytes())}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(weight_grams="heavy"), "weight_grams: must be a whole number"),
        (lambda d: d.update(weight_grams=-1), "weight_grams: must be between"),
        (lambda d: d["order"].pop("shipTo"), "order.ship_to: is required"),
        (lambda d: d["order"]["shipTo"].update(line1=""), "ship_to.line1: is required"),
        (lambda d: d["order"].update(trackingNumber="1Z é"), "tracking_number: has characters"),
        (lambda d: d["order"]["shipTo"].update(name="x" * 10_240), "ship_to.name: is 10240"),
        (lambda d: d["order"].update(colour="red"), "order: "),
        (lambda d: d.pop("ship_from"), "ship_from: is required"),
        (lambda d: d["order"].pop("total"), "order.total: a cash-on-delivery order"),
    ],
)
def test_bad_order_json_fails_with_the_field_named_and_writes_nothing(tmp_path, change, message):
    doc = json.loads(json.dumps({"order": ORDER, "ship_from": SHIP_FROM, "weight_grams": 1250}))
    change(doc)
    out = tmp_path / "label.pdf"
    result = CliRunner().invoke(
        label, ["render", "--order-json", _write(tmp_path, doc), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert message in result.output
    assert not out.exists()


def test_invalid_json_and_unreadable_pdf_are_reported(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    out = tmp_path / "x.pdf"
    result = CliRunner().invoke(label, ["render", "--order-json", str(bad), "-o", str(out)])
    assert result.exit_code == 1 and "not valid JSON" in result.output
    assert not out.exists()
    blank = tmp_path / "blank.pdf"
    c = Canvas(str(blank))
    c.drawString(72, 720, "no barcodes here")
    c.save()
    result = CliRunner().invoke(label, ["verify", str(blank)])
    assert result.exit_code == 1 and "no barcode" in result.output


def _text(pdf: bytes) -> str:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def _tote_label(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "label", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_the_documented_input_without_a_weight_renders_a_label_with_no_weight(tmp_path):
    # API.md: FILE holds {"order": <tote.v1.Order>, "ship_from": <tote.v1.Address>} — no more.
    doc = {"order": ORDER, "ship_from": SHIP_FROM}
    out = tmp_path / "label.pdf"
    run = _tote_label("render", "--order-json", _write(tmp_path, doc), "-o", str(out))
    assert run.returncode == 0, run.stderr
    pdf = out.read_bytes()
    payload = label_payload("1Z999AA10123456784", "ORD-2026-000777", "560038")
    assert sorted(r.key for r in verify(pdf)) == [
        ("CODE128", "1Z999AA10123456784"), ("QRCODE", payload)]
    text = _text(pdf)
    assert "Order ORD-2026-000777" in text
    assert "Weight" not in text and " kg" not in text


def test_the_weight_comes_from_the_flag_and_the_flag_wins_over_the_file(tmp_path):
    out = tmp_path / "label.pdf"
    plain = _write(tmp_path, {"order": ORDER, "ship_from": SHIP_FROM})
    run = _tote_label("render", "--order-json", plain, "--weight-grams", "1250", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "Weight 1.25 kg" in _text(out.read_bytes())
    weighed = _write(tmp_path, {"order": ORDER, "ship_from": SHIP_FROM, "weightGrams": 800})
    run = _tote_label("render", "--order-json", weighed, "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "Weight 0.8 kg" in _text(out.read_bytes())
    run = _tote_label("render", "--order-json", weighed, "--weight-grams", "2000", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "Weight 2 kg" in _text(out.read_bytes()) and "0.8 kg" not in _text(out.read_bytes())


def test_a_zpl_label_without_a_weight_prints_no_weight(tmp_path):
    out = tmp_path / "label.zpl"
    doc = {"order": ORDER, "ship_from": SHIP_FROM}
    run = _tote_label("render", "--order-json", _write(tmp_path, doc), "--format", "zpl",
                      "-o", str(out))
    assert run.returncode == 0, run.stderr
    zpl = out.read_text(encoding="utf-8")
    assert "^FD1Z999AA10123456784^FS" in zpl and "Weight" not in zpl


@pytest.mark.parametrize("weight", ["0", "-5", "heavy"])
def test_an_unusable_weight_flag_is_refused_and_writes_nothing(tmp_path, weight):
    out = tmp_path / "label.pdf"
    doc = {"order": ORDER, "ship_from": SHIP_FROM}
    run = _tote_label("render", "--order-json", _write(tmp_path, doc), "--weight-grams", weight,
                      "-o", str(out))
    assert run.returncode == 2 and "--weight-grams" in run.stderr
    assert not out.exists()


def test_the_packing_slip_of_an_unweighed_parcel_prints_no_weight(tmp_path):
    from labels import render_packing_slip
    from server.label_cli import label_data_from_json

    data = label_data_from_json({"order": ORDER, "ship_from": SHIP_FROM})
    assert data.weight_grams is None
    assert "Weight" not in _text(render_packing_slip(data))
    weighed = label_data_from_json({"order": ORDER, "ship_from": SHIP_FROM}, weight_grams=1250)
    assert "Weight 1.25 kg" in _text(render_packing_slip(weighed))
