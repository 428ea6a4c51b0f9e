"""What the packer types at the scale: grams or kilograms are a weight, a scan is not."""

from __future__ import annotations

import pytest

from terminals.packer import weight
from terminals.words import count


@pytest.mark.parametrize(("typed", "grams"), [
    ("1234", 1234), (" 850 ", 850), ("850 g", 850), ("850g", 850), ("1.234 kg", 1234),
    ("1,234kg", 1234), ("2 KG", 2000), ("0.3 kg", 300), ("1000000", 1_000_000)])
def test_typed_weights_are_read_in_grams(typed, grams):  # type: ignore[no-untyped-def]
    assert weight.read(typed) == weight.Reading(grams=grams)


# 00123457 is a GTIN-8 whose number is 123 457: the old packer took it for 123 457 g.
@pytest.mark.parametrize("scanned", ["4006381333931", "96385074", "036000291452",
                                     "10614141000415", "00123457"])
def test_a_scanned_gtin_is_a_unit_not_a_weight(scanned):  # type: ignore[no-untyped-def]
    reading = weight.read(scanned)
    assert reading.grams == 0 and reading.code == scanned and reading.is_gtin


@pytest.mark.parametrize("scanned", ["4006381333932", "12345678", "123456789"])
def test_long_digit_runs_without_a_valid_check_digit_are_codes_too(scanned):  # type: ignore[no-untyped-def]
    reading = weight.read(scanned)
    assert reading.grams == 0 and reading.code == scanned and not reading.is_gtin


def test_letters_are_a_code_and_a_bare_decimal_asks_for_its_unit():
    assert weight.read("T-0042") == weight.Reading(code="T-0042")
    assert "say the unit" in weight.read("1.234").why
    assert weight.read("0").why and weight.read("0 kg").why and weight.read("").why
    assert weight.read("1001 kg").why  # more than a tonne is no parcel


def test_counts_are_singular_for_one():
    assert count(1, "unit") == "1 unit"
    assert count(0, "unit") == "0 units" and count(2, "scan") == "2 scans"
    assert count(1, "more shipment") == "1 more shipment"
