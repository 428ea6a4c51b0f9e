"""Read-back: an unreadable barcode is refused; camera photos decode; bad files are refused."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageFilter
from reportlab.pdfgen.canvas import Canvas

from labels import (
    LABEL_4X6,
    LabelError,
    UnreadableBarcodeError,
    codes,
    decode_image,
    render_label,
    samples,
    verify,
)
from labels.codes import label_payload
from labels.spec import Box
from labels.verify import check_drawn, rasterize


def _pdf_with_code128(value: str, damage: bool = False) -> tuple[bytes, codes.Drawn]:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(288, 144))
    drawn = codes.code128(c, value, Box(0, 20, 288, 80), 203, text_size=8)
    if damage:  # a smear of white across the middle of the bars, as a torn label would have
        c.setFillGray(1)
        c.rect(drawn.box.x + drawn.box.w * 0.45, 0, drawn.box.w * 0.12, 144, stroke=0, fill=1)
    c.save()
    return buf.getvalue(), drawn


def test_a_barcode_that_reads_as_something_else_is_refused():
    pdf, drawn = _pdf_with_code128("ABC123")
    check_drawn("test", pdf, [(0, drawn)], 203)  # the honest claim passes
    wrong = codes.Drawn("CODE128", "ABC124", drawn.box)
    with pytest.raises(UnreadableBarcodeError) as err:
        check_drawn("test", pdf, [(0, wrong)], 203)
    assert "ABC124" in str(err.value) and err.value.read == [("CODE128", "ABC123")]


def test_a_damaged_barcode_is_refused():
    pdf, drawn = _pdf_with_code128("ABC123", damage=True)
    assert verify(pdf, 203) == []
    with pytest.raises(UnreadableBarcodeError, match="did not read back"):
        check_drawn("label X", pdf, [(0, drawn)], 203)


def _phone_photo(pdf: bytes, angle: float, quality: int) -> bytes:
    """The label as a phone would see it: tilted on a grey desk, soft, noisy, JPEG."""
    label = rasterize(pdf, 300)[0].convert("RGB")
    label = label.rotate(angle, expand=True, fillcolor=(120, 118, 110), resample=Image.BICUBIC)
    desk = Image.new("RGB", (label.width + 300, label.height + 240), (120, 118, 110))
    desk.paste(label, (150, 90))
    desk = desk.filter(ImageFilter.GaussianBlur(0.8))
    rnd = random.Random(7)
    px = desk.load()
    for _ in range(desk.width * desk.height // 40):
        x, y = rnd.randrange(desk.width), rnd.randrange(desk.height)
        v = rnd.randint(-40, 40)
        px[x, y] = tuple(max(0, min(255, ch + v)) for ch in px[x, y])
    out = io.BytesIO()
    desk.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.mark.parametrize(("angle", "quality"), [(7, 70), (-3, 55), (90, 80)])
def test_decode_image_reads_a_phone_photo_of_a_label(angle, quality):
    d = samples.label_data(10)
    photo = _phone_photo(render_label(LABEL_4X6, d), angle, quality)
    read = {r.key for r in decode_image(photo)}
    assert ("CODE128", d.tracking_number) in read
    payload = label_payload(d.tracking_number, d.order_id, d.ship_to.postal_code)
    assert ("QRCODE", payload) in read


def test_decode_image_takes_png_files_and_pil_images(tmp_path):
    d = samples.label_data(3)
    image = rasterize(render_label(LABEL_4X6, d), 203)[0]
    path = tmp_path / "scan.png"
    image.save(path)
    for source in (path, str(path), path.read_bytes(), image):
        assert ("CODE128", d.tracking_number) in {r.key for r in decode_image(source)}


def test_a_photo_without_codes_reads_nothing():
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 200, 200)).save(blank, "PNG")
    assert decode_image(blank.getvalue()) == []


def test_garbage_is_refused_as_image_and_as_pdf():
    with pytest.raises(LabelError, match="image"):
        decode_image(b"not an image at all")
    with pytest.raises(LabelError, match="pdf"):
        verify(b"%PDF-1.4 broken")
