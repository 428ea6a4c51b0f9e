"""Shipping labels: every barcode reads back, text stays inside its region, COD is shown."""

from __future__ import annotations

import dataclasses
import json

import pypdfium2 as pdfium
import pytest

from labels import LABEL_4X6, LABEL_A6, Address, Money, fonts, render_label, samples
from labels.codes import parse_label_payload
from labels.shipping import render_label_with_layout
from labels.verify import rasterize, verify

N_ORDERS = 50
PRINTER_DPIS = (203, 300)
SPECS = {"4x6": LABEL_4X6, "a6": LABEL_A6}
LONG_LINE = (
    "Flat 1203, Tower B, Prestige Shantiniketan, Whitefield Main Road, Near ITPL Back Gate, "
    "Opposite Forum Value Mall, Hoodi Village, Mahadevapura Zone 12B"
)


@pytest.mark.parametrize("size", sorted(SPECS))
@pytest.mark.parametrize("i", range(N_ORDERS))
def test_every_barcode_on_a_label_reads_back_as_its_input(orders, label_codes, i, size):
    d = orders[i]
    pdf = render_label(SPECS[size], d)
    for dpi in PRINTER_DPIS:
        read = sorted(r.key for r in verify(pdf, dpi))
        assert read == label_codes(d), f"at {dpi} dpi"


def test_qr_payload_carries_tracking_order_and_postal_code(orders):
    d = orders[4]
    qr = next(r for r in verify(render_label(LABEL_4X6, d)) if r.symbology == "QRCODE")
    assert parse_label_payload(qr.data) == {
        "tracking_number": d.tracking_number,
        "order_id": d.order_id,
        "postal_code": d.ship_to.postal_code,
    }
    assert json.loads(qr.data)  # plain JSON a third-party scanner app can read


def test_label_page_is_exactly_the_label_size():
    d = samples.label_data(1)
    for spec, size in ((LABEL_4X6, (288, 432)), (LABEL_A6, (297.6, 419.5))):
        pdf = pdfium.PdfDocument(render_label(spec, d))
        w, h = pdf[0].get_size()
        assert (round(w, 1), round(h, 1)) == size
        assert len(pdf) == 1
        pdf.close()


def _stress_label():
    d = samples.label_data(2)
    to = dataclasses.replace(
        d.ship_to, name="अनन्या शर्मा", line1=LONG_LINE, line2="श्री साई अपार्टमेंट, क्षत्रिय मार्ग"
    )
    assert len(LONG_LINE) == 150
    return dataclasses.replace(d, ship_to=to, cod=Money(123450, "INR"))


@pytest.mark.parametrize("size", sorted(SPECS))
def test_long_address_line_and_devanagari_name_stay_inside_their_region(size):
    spec = SPECS[size]
    _, layout = render_label_with_layout(spec, _stress_label())
    printable = spec.printable
    for region, lines in layout.lines.items():
        assert lines, f"{region} drew nothing"
        for line in lines:
            assert layout.regions[region].contains(line.box), (region, line.text)
            assert printable.contains(line.box), (region, line.text)
            for code in layout.barcodes:
                assert not code.box.overlaps(line.box), (region, line.text, code.symbology)
    to_text = " ".join(ln.text for ln in layout.lines["ship_to"])
    assert "…" not in to_text  # wrapped or shrunk, nothing cut
    assert LONG_LINE.split()[-1] in to_text and "अनन्या शर्मा" in to_text


def test_no_ink_in_the_page_margins():
    spec = LABEL_4X6
    pdf = render_label(spec, _stress_label())
    image = rasterize(pdf, 203)[0]
    edge = int(spec.margin * 203 / 72) - 2
    w, h = image.size
    for box in ((0, 0, edge, h), (w - edge, 0, w, h), (0, 0, w, edge), (0, h - edge, w, h)):
        assert image.crop(box).getextrema()[0] >= 250, box


def test_devanagari_is_shaped_into_conjuncts_and_matras():
    # क्ष is one conjunct glyph and ि is reordered before its consonant: unshaped text would
    # draw one glyph per code point, halant visible.
    for word in ("क्ष", "अनन्या", "शर्मा", "त्रि"):
        shaped, _ = fonts._shaped(word, "ToteDeva", 12)
        glyphs = shaped.__shapeData__
        assert len(glyphs) < len(word), word
    kshatriya, _ = fonts._shaped("कि", "ToteDeva", 12)
    assert len(kshatriya.__shapeData__) == 2 and kshatriya[0] != "क"


def test_cod_label_shows_the_amount_to_collect_and_prepaid_says_collect_nothing():
    d = _stress_label()
    _, layout = render_label_with_layout(LABEL_4X6, d)
    assert [ln.text for ln in layout.lines["cod"]] == ["COD - COLLECT", "₹1,234.50"]
    _, layout = render_label_with_layout(LABEL_4X6, dataclasses.replace(d, cod=None))
    assert "PREPAID" in layout.lines["cod"][0].text


def test_label_shows_order_weight_date_carrier_and_sort_code():
    d = dataclasses.replace(samples.label_data(5), weight_grams=1250, sort_code="BLR-07")
    _, layout = render_label_with_layout(LABEL_A6, d)
    details = " ".join(ln.text for ln in layout.lines["details"])
    assert d.order_id in details and "1.25 kg" in details and d.ship_date.isoformat() in details
    assert layout.lines["carrier"][0].text == d.carrier
    assert layout.lines["sort_code"][0].text == "BLR-07"
    assert d.ship_from.name in layout.lines["ship_from"][0].text


def test_sort_code_defaults_to_country_and_postal_prefix():
    d = samples.label_data(5)
    to = Address("A", "B", "Bengaluru", "560 038", "India")
    assert dataclasses.replace(d, sort_code="", ship_to=to).routing_code == "IN-560"


def test_labels_render_concurrently_from_a_thread_pool(orders, label_codes):
    # The server renders from gRPC worker threads; PDFium is not thread-safe on its own.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(lambda d: render_label(LABEL_4X6, d), orders[:16]))
    for d, pdf in zip(orders[:16], pdfs, strict=True):
        assert sorted(r.key for r in verify(pdf)) == label_codes(d)
