"""Read barcodes back: from our PDFs (pypdfium2 + pyzbar) and from terminal camera photos."""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageOps
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

from labels.codes import Drawn
from labels.errors import LabelError, UnreadableBarcodeError

_SYMBOLS = {s.name: s for s in ZBarSymbol}
# What tote prints. Asking zbar for these only is faster, cannot mistake text for some other
# symbology, and keeps zbar's DataBar decoder from spamming stderr with assertion notes.
PRINTED = ("CODE128", "QRCODE", "EAN13", "EAN8", "UPCA", "I25")
_PAD = 3.0  # points around a barcode's quiet zone when reading it back from a crop


@dataclass(frozen=True)
class ReadCode:
    """A barcode that was read: page (0-based), symbology (pyzbar's name), text, pixel rect."""

    page: int
    symbology: str
    data: str
    rect: tuple[int, int, int, int]  # left, top, width, height

    @property
    def key(self) -> tuple[str, str]:
        return (self.symbology, self.data)


def _decode(image: Image.Image, page: int, symbols: Iterable[str] | None = None) -> list[ReadCode]:
    wanted = [_SYMBOLS[s] for s in symbols] if symbols else None
    found = []
    for d in pyzbar.decode(image, symbols=wanted):
        found.append(
            ReadCode(page, d.type, d.data.decode("utf-8", "replace"), tuple(d.rect))
        )
    return sorted(found, key=lambda r: (r.page, r.rect[1], r.rect[0]))


# The server renders labels from a thread pool and the console merges and renders PDFs off its
# GUI thread (decoding with zbar, the slower half, runs outside the lock).
PDFIUM_LOCK = threading.Lock()
"""PDFium is not thread-safe: every use of pypdfium2 in the process takes this lock."""


def _open(pdf_bytes: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(pdf_bytes)
    except pdfium.PdfiumError as e:
        raise LabelError(f"pdf: not a readable PDF ({e})") from None


def rasterize(pdf_bytes: bytes, dpi: int = 203) -> list[Image.Image]:
    """Every page of a PDF as a grayscale image at `dpi`."""
    with PDFIUM_LOCK:
        pdf = _open(pdf_bytes)
        try:
            # .copy(): to_pil() shares the bitmap's memory, which PDFium frees with the bitmap.
            return [
                pdf[i].render(scale=dpi / 72, grayscale=True).to_pil().copy()
                for i in range(len(pdf))
            ]
        finally:
            pdf.close()


def verify(pdf_bytes: bytes, dpi: int = 203, symbols: Iterable[str] = PRINTED) -> list[ReadCode]:
    """Rasterize every page at `dpi` and return every barcode read, in page then reading order."""
    found: list[ReadCode] = []
    for page, image in enumerate(rasterize(pdf_bytes, dpi)):
        found.extend(_decode(image, page, symbols))
    return found


def _render_band(
    pdf_bytes: bytes, page_no: int, bottom: float, top: float, dpi: int
) -> tuple[Image.Image, float]:
    """The full-width strip of a page from `bottom` to `top` points, and its top edge in points."""
    scale = dpi / 72
    with PDFIUM_LOCK:
        pdf = _open(pdf_bytes)
        try:
            page = pdf[page_no]
            height = page.get_height()
            cut_top = max(0.0, height - top)
            crop = (0, max(0.0, bottom), 0, cut_top)
            image = page.render(scale=scale, crop=crop, grayscale=True).to_pil().copy()
        finally:
            pdf.close()
    # pypdfium2 cuts whole pixels, rounding the cut up.
    return image, height - math.ceil(cut_top * scale) / scale


def check_drawn(document: str, pdf_bytes: bytes, drawn: list[tuple[int, Drawn]], dpi: int) -> None:
    """Read each drawn barcode back from its rendered page; raise if any does not match."""
    # Only the strip of each page that holds barcodes is rasterized (half a label's cost),
    # then each barcode is cut out with its quiet zone and decoded on its own.
    scale = dpi / 72
    read: list[tuple[str, str]] = []
    for page_no in sorted({p for p, _ in drawn}):
        on_page = [d for p, d in drawn if p == page_no]
        top = max(d.box.top for d in on_page) + _PAD
        bottom = min(d.box.y for d in on_page) - _PAD
        band, band_top = _render_band(pdf_bytes, page_no, bottom, top, dpi)
        for d in on_page:
            crop = (
                max(0, math.floor((d.box.x - _PAD) * scale)),
                max(0, math.floor((band_top - d.box.top - _PAD) * scale)),
                min(band.width, math.ceil((d.box.right + _PAD) * scale)),
                min(band.height, math.ceil((band_top - d.box.y + _PAD) * scale)),
            )
            # zbar decodes UPC-A inside its EAN-13 decoder, so UPCA alone would never read.
            wanted = ["EAN13", "UPCA"] if d.symbology == "UPCA" else [d.symbology]
            read.extend(r.key for r in _decode(band.crop(crop), page_no, wanted))
    expected = [(d.symbology, d.data) for _, d in drawn]
    if any(e not in read for e in expected):
        raise UnreadableBarcodeError(document, expected, read)


def decode_image(image: bytes | str | Path | Image.Image) -> list[ReadCode]:
    """Decode barcodes in a camera photo: PNG/JPEG bytes, a path, or a PIL image."""
    img: Image.Image
    if isinstance(image, bytes | bytearray):
        try:
            img = Image.open(io.BytesIO(image))
            img.load()
        except Exception as e:  # PIL raises several types for bad files
            raise LabelError(f"image: not a readable PNG/JPEG ({e})") from None
    elif isinstance(image, str | Path):
        img = Image.open(image)
    else:
        img = image
    img = ImageOps.exif_transpose(img).convert("L")
    # Phone photos are 12+ Mpx; zbar finds codes faster, and no worse, at about 1600 px.
    if max(img.size) > 2000:
        img.thumbnail((1600, 1600))
    seen: dict[tuple[str, str], ReadCode] = {}
    for attempt in (img, ImageOps.autocontrast(img, cutoff=2)):
        for r in _decode(attempt, 0):
            seen.setdefault(r.key, r)
        if seen:
            break
    return list(seen.values())
