"""GS1 check digits (mod 10, weights 3/1): real numbers pass, every single-digit error fails."""

from __future__ import annotations

import pytest

from labels import check_digit, gtin14, is_valid_gtin, is_valid_sscc, make_sscc

# Published examples: Wikipedia's EAN-13/UPC-A/EAN-8/ISBN samples, GS1's own examples.
REAL_GTINS = [
    "4006381333931",  # EAN-13, Stabilo highlighter
    "5901234123457",  # EAN-13, GS1 example
    "9780306406157",  # ISBN-13 as EAN-13
    "4902430735063",  # EAN-13
    "036000291452",  # UPC-A
    "012345678905",  # UPC-A
    "96385074",  # EAN-8
    "73513537",  # EAN-8
    "00012345600012",  # GTIN-14
    "10614141000415",  # GTIN-14, GS1 US example
]
REAL_SSCCS = ["106141412345678908", "340123450000000000", "106141411234567897"]


def single_digit_errors(number: str):
    for i, d in enumerate(number):
        for other in "0123456789":
            if other != d:
                yield number[:i] + other + number[i + 1 :]


@pytest.mark.parametrize("gtin", REAL_GTINS)
def test_real_gtin_is_valid_and_every_single_digit_error_is_rejected(gtin):
    assert is_valid_gtin(gtin)
    errors = list(single_digit_errors(gtin))
    assert len(errors) == 9 * len(gtin)
    accepted = [e for e in errors if is_valid_gtin(e)]
    assert accepted == []


@pytest.mark.parametrize("sscc", REAL_SSCCS)
def test_real_sscc_is_valid_and_every_single_digit_error_is_rejected(sscc):
    assert is_valid_sscc(sscc)
    assert [e for e in single_digit_errors(sscc) if is_valid_sscc(e)] == []


@pytest.mark.parametrize(
    "bad",
    ["", "400638133393", "40063813339312", "4006381333931 ", "4OO6381333931", "٤٠٠٦٣٨١٣٣٣٩٣١"],
)
def test_wrong_length_or_non_ascii_digits_are_not_gtins(bad):
    assert not is_valid_gtin(bad)


def test_check_digit_weights_three_next_to_the_check_digit():
    assert check_digit("400638133393") == 1
    assert check_digit("0001234560001") == 2
    assert check_digit("10614141123456789") == 7
    with pytest.raises(ValueError):
        check_digit("12a")


def test_sscc_is_built_from_extension_prefix_and_serial():
    sscc = make_sscc(1, "0614141", 123456789)
    assert sscc == "106141411234567897"
    assert is_valid_sscc(sscc)
    with pytest.raises(ValueError):
        make_sscc(1, "0614141", 10**9)


def test_gtin14_pads_shorter_gtins_and_refuses_bad_ones():
    assert gtin14("036000291452") == "00036000291452"
    with pytest.raises(ValueError):
        gtin14("036000291453")
