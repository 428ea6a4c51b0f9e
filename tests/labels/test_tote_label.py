"""Tote labels: the short code in large type over a Code128 that reads back with zbar at the
label printer's resolution; printed with `tote label tote`."""

from __future__ import annotations

import subprocess
import sys

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from PIL import Image
from pyzbar import pyzbar

from labels import LabelDataError, render_tote_labels
from server.label_cli import label
from tests.harness import ROOT


def read_back(pdf: bytes, dpi: int = 203) -> list[str]:
    """Every barcode zbar finds on each whole page, rasterized as the printer would print it."""
    document = pdfium.PdfDocument(pdf)
    try:
        found = []
        for page in document:
            image = page.render(scale=dpi / 72).to_pil().convert("L")
            white = Image.new("L", image.size, 255)
            white.paste(image)
            found += [f"{d.type} {d.data.decode()}" for d in pyzbar.decode(white)]
        return found
    finally:
        document.close()


def test_a_tote_label_carries_its_code_as_code128_one_label_per_tote():
    pdf = render_tote_labels(["T-0042", "T-123456"], "FC-BLR")
    assert read_back(pdf) == ["CODE128 T-0042", "CODE128 T-123456"]
    document = pdfium.PdfDocument(pdf)
    try:
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (288, 144)  # 4 x 2 inches
        assert "T-0042" in document[0].get_textpage().get_text_range()  # in type, too
    finally:
        document.close()


def test_a_code_that_cannot_go_on_a_tote_label_is_refused():
    for bad in ([], [""], ["T-" + "9" * 20], ["T-00\n42"]):
        with pytest.raises(LabelDataError, match="tote_code"):
            render_tote_labels(bad)


def test_tote_label_tote_writes_the_labels_of_the_codes_it_is_given(tmp_path):
    out = tmp_path / "totes.pdf"
    result = CliRunner().invoke(label, ["tote", "t42", "T-0043", "-o", str(out),
                                        "--fc", "FC-BLR"])
    assert result.exit_code == 0, result.output
    assert "wrote 2 tote labels (T-0042, T-0043)" in result.output
    assert read_back(out.read_bytes()) == ["CODE128 T-0042", "CODE128 T-0043"]
    refused = CliRunner().invoke(label, ["tote", "pt_01M947GX4TQRBM0HBEYQ5AAP6B", "-o",
                                         str(tmp_path / "no.pdf")])
    assert refused.exit_code != 0 and "is not a tote code" in refused.output
    assert not (tmp_path / "no.pdf").exists()


def test_the_tote_command_prints_a_label_to_stdout():
    out = subprocess.run([sys.executable, "-m", "server", "label", "tote", "T-0007", "-o", "-"],
                         cwd=ROOT, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert read_back(out.stdout) == ["CODE128 T-0007"]
