"""Bad input is refused with an error naming the field, before any PDF exists."""

from __future__ import annotations

import dataclasses

import pytest

from labels import (
    LABEL_4X6,
    Address,
    LabelDataError,
    LabelError,
    Money,
    PickLine,
    render_label,
    render_packing_slip,
    render_zpl,
    samples,
    spec_for,
)
from labels.model import LabelData, PickList


@pytest.fixture
def good() -> LabelData:
    return samples.label_data(1)


def _replace_to(d: LabelData, **changes) -> LabelData:
    return dataclasses.replace(d, ship_to=dataclasses.replace(d.ship_to, **changes))


@pytest.mark.parametrize(
    ("build", "field", "words"),
    [
        (lambda d: dataclasses.replace(d, ship_to=None), "ship_to", "required"),
        (lambda d: _replace_to(d, line1=""), "ship_to.line1", "required"),
        (lambda d: _replace_to(d, postal_code="  "), "ship_to.postal_code", "required"),
        (lambda d: dataclasses.replace(d, ship_from=None), "ship_from", "required"),
        (lambda d: dataclasses.replace(d, weight_grams=-5), "weight_grams", "between"),
        (lambda d: dataclasses.replace(d, weight_grams=0), "weight_grams", "between"),
        (lambda d: dataclasses.replace(d, weight_grams=1.5), "weight_grams", "whole number"),
        (
            lambda d: dataclasses.replace(d, tracking_number="1Z999É12"),
            "tracking_number",
            "Code128",
        ),
        (lambda d: dataclasses.replace(d, tracking_number="1Z 999"), "tracking_number", "Code128"),
        (lambda d: dataclasses.replace(d, tracking_number=""), "tracking_number", "required"),
        (lambda d: _replace_to(d, name="N" * 10_240), "ship_to.name", "10240 characters"),
        (lambda d: _replace_to(d, name="Ana 🙂"), "ship_to.name", "U+1F642"),
        (lambda d: _replace_to(d, line2="Flat 4\nB"), "ship_to.line2", "control"),
        (lambda d: dataclasses.replace(d, cod=Money(-100, "INR")), "cod", "positive"),
        (lambda d: dataclasses.replace(d, carrier=""), "carrier", "required"),
        (lambda d: dataclasses.replace(d, ship_date="2026-11-25"), "ship_date", "date"),
    ],
)
def test_bad_label_data_names_the_field(good, build, field, words):
    with pytest.raises(LabelDataError) as err:
        build(good)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")
    assert words in str(err.value)
    assert isinstance(err.value, ValueError)  # callers may catch ValueError


def test_money_refuses_floats_and_bad_currencies():
    with pytest.raises(LabelDataError, match="amount_minor"):
        Money(12.5, "INR")
    with pytest.raises(LabelDataError, match="currency"):
        Money(1250, "rupees")


def test_tracking_number_too_long_for_the_label_is_refused_when_rendering(good):
    d = dataclasses.replace(good, tracking_number="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123")
    with pytest.raises(LabelDataError) as err:
        render_label(LABEL_4X6, d)
    assert err.value.field == "tracking_number"
    assert "3 dots" in str(err.value)


def test_a_long_numeric_tracking_number_still_fits(good):
    d = dataclasses.replace(good, tracking_number="9" * 34)  # Code128 set C packs digit pairs
    assert render_label(LABEL_4X6, d).startswith(b"%PDF")
    assert render_zpl(LABEL_4X6, d).startswith("^XA")


def test_unknown_label_size_is_refused():
    with pytest.raises(LabelError, match="size"):
        spec_for("letter")


def test_packing_slip_without_lines_is_refused(good):
    with pytest.raises(LabelDataError, match="lines"):
        render_packing_slip(dataclasses.replace(good, lines=()))


def test_packing_slip_refuses_unknown_paper(good):
    with pytest.raises(LabelError, match="paper"):
        render_packing_slip(good, paper="a5")


def test_pick_list_refuses_a_gtin_with_a_wrong_check_digit():
    line = PickLine(bin="A-1-1", sku="SKU-1", gtin="4006381333932", quantity=1)
    with pytest.raises(LabelDataError) as err:
        PickList("PT-1", "BLR-N", samples.pick_list().created, (line,))
    assert err.value.field == "lines[0].gtin"


def test_address_without_optional_fields_is_fine():
    a = Address(name="Ravi", line1="1 MG Road", city="Pune", postal_code="411001", country="IN")
    a.check("ship_to")
