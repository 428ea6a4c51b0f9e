"""Packing slips, pick lists and manifests: every barcode reads back; content is right."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pypdfium2 as pdfium
import pytest

from labels import (
    Money,
    format_money,
    render_manifest,
    render_packing_slip,
    render_pick_list,
    samples,
    verify,
)
from labels.model import ManifestParcel
from labels.pick_list import bin_order, walk_order

N_ORDERS = 50
PRINTER_DPIS = (203, 300)
PAPER_POINTS = {"a4": (595.3, 841.9), "letter": (612.0, 792.0)}


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [tuple(round(v, 1) for v in doc[i].get_size()) for i in range(len(doc))]
    finally:
        doc.close()


def _text(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_bounded() for i in range(len(doc)))
    finally:
        doc.close()


def _gtin_key(gtin: str) -> tuple[str, str]:
    return ({8: "EAN8", 12: "UPCA", 13: "EAN13", 14: "I25"}[len(gtin)], gtin)


@pytest.mark.parametrize("i", range(N_ORDERS))
def test_packing_slip_barcode_reads_back_on_every_page(orders, i):
    d = orders[i]
    paper = "a4" if i % 2 == 0 else "letter"
    pdf = render_packing_slip(d, paper)
    pages = _pages(pdf)
    assert set(pages) == {PAPER_POINTS[paper]}
    for dpi in PRINTER_DPIS:
        read = [r.key for r in verify(pdf, dpi)]
        assert read == [("CODE128", d.order_id)] * len(pages), f"at {dpi} dpi"


def test_packing_slip_lists_every_line_and_the_cod_amount():
    d = samples.label_data(0)
    assert d.cod is not None
    text = _text(render_packing_slip(d))
    for line in d.lines:
        assert line.sku in text
        amount = Money(line.unit_price.amount_minor * line.quantity, line.unit_price.currency)
        assert format_money(amount) in text
    assert f"Amount to collect: {format_money(d.cod)}" in text
    prepaid = _text(render_packing_slip(dataclasses.replace(d, cod=None)))
    assert "Amount to collect" not in prepaid and "nothing to collect" in prepaid


def test_a_long_order_breaks_onto_more_pages_and_repeats_the_header():
    d = samples.label_data(2)
    lines = tuple(
        dataclasses.replace(d.lines[0], sku=f"SKU-{n:04d}", description=f"Item {n}")
        for n in range(90)
    )
    pdf = render_packing_slip(dataclasses.replace(d, lines=lines, cod=None), "letter")
    pages = _pages(pdf)
    assert len(pages) >= 3
    assert [r.key for r in verify(pdf)] == [("CODE128", d.order_id)] * len(pages)
    text = _text(pdf)
    assert all(f"SKU-{n:04d}" in text for n in range(90))


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_pick_list_gtins_read_back_in_bin_walking_order(paper):
    pick = samples.pick_list(n_lines=30, seed=11)
    pdf = render_pick_list(pick, paper)
    pages = _pages(pdf)
    assert len(pages) >= 2 and set(pages) == {PAPER_POINTS[paper]}
    walk = [_gtin_key(ln.gtin) for ln in walk_order(pick.lines)]
    for dpi in PRINTER_DPIS:
        read = [r.key for r in verify(pdf, dpi)]
        header = [k for k in read if k == ("CODE128", pick.pick_list_id)]
        assert len(header) == len(pages), f"at {dpi} dpi"
        # verify() returns codes in reading order, so this also proves the printed order.
        assert [k for k in read if k[0] != "CODE128"] == walk, f"at {dpi} dpi"


def test_bins_sort_naturally():
    bins = ["B-10-1", "A-2-10", "A-2-9", "a-1-1", "B-2-1", "A-10-1"]
    assert sorted(bins, key=bin_order) == ["a-1-1", "A-2-9", "A-2-10", "A-10-1", "B-2-1", "B-10-1"]


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_manifest_reads_every_tracking_number_once_and_totals_cod(paper):
    m = samples.manifest(n_parcels=40, seed=21)
    pdf = render_manifest(m, paper)
    pages = _pages(pdf)
    for dpi in PRINTER_DPIS:
        read = Counter(r.key for r in verify(pdf, dpi))
        expected = Counter({("CODE128", p.tracking_number): 1 for p in m.parcels})
        expected[("CODE128", m.manifest_id)] = len(pages)
        assert read == expected, f"at {dpi} dpi"
    text = _text(pdf)
    assert f"Parcels: {len(m.parcels)}" in text
    sums: dict[str, int] = {}
    for p in m.parcels:
        if p.cod:
            sums[p.cod.currency] = sums.get(p.cod.currency, 0) + p.cod.amount_minor
    assert sums, "sample manifest should carry COD parcels"
    for currency, minor in sums.items():
        assert f"COD to collect ({currency}): {format_money(Money(minor, currency))}" in text
    assert "Received by (BlueDart)" in text and "Signature" in text


def test_manifest_total_weight_uses_integer_grams():
    m = samples.manifest(n_parcels=3, seed=2)
    parcels = tuple(
        ManifestParcel(f"TRK{n}", f"O{n}", "Pune 411001", g)
        for n, g in enumerate((1, 999, 1_000_000))
    )
    text = _text(render_manifest(dataclasses.replace(m, parcels=parcels)))
    assert "Total weight: 1001 kg" in text


def test_counts_on_documents_agree_with_their_number():
    from labels.text import plural

    assert [plural(n, "line") for n in (0, 1, 2)] == ["0 lines", "1 line", "2 lines"]
