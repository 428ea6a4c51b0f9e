"""The one money formatter: what a person reads wherever tote prints an amount (no I/O)."""

from __future__ import annotations

import pytest

import labels
from core.domain.money import Money, exponent, format_money, plain_amount


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (254_100, "INR", "₹2,541.00"),
    (3_054_200, "INR", "₹30,542.00"),
    (0, "INR", "₹0.00"),
    (5, "INR", "₹0.05"),
    (123_456_789, "INR", "₹12,34,567.89"),        # lakhs and crores, as India writes rupees
    (10**17 + 1, "INR", "₹1,00,00,00,00,00,00,000.01"),
    (-5_000, "INR", "-₹50.00"),
    (123_456_789, "USD", "$1,234,567.89"),        # thousands everywhere else
    (-1_999, "EUR", "-€19.99"),
    (99, "GBP", "£0.99"),
    (1_500, "JPY", "¥1,500"),                      # no minor unit
    (-7, "KRW", "-7 KRW"),
    (4_778_311, "KWD", "4,778.311 KWD"),           # three decimals
    (1, "BHD", "0.001 BHD"),
    (12_345, "CLF", "1.2345 CLF"),                 # four
    (254_100, "XYZ", "2,541.00 XYZ"),              # unknown code: two decimals, code after
    (-100, "ABC", "-1.00 ABC"),
    (10**21 + 1, "KWD", "1,000,000,000,000,000,000.001 KWD"),  # far beyond a float's digits
])
def test_money_reads_with_the_currencys_symbol_grouping_and_exponent(amount, currency, text):
    assert format_money(amount, currency) == text
    assert str(Money(amount, currency)) == text
    # The console and the labels print through the same function.
    assert labels.format_amount(amount, currency) == text
    assert labels.format_money(labels.Money(amount, currency)) == text


@pytest.mark.parametrize(("currency", "digits"), [
    ("INR", 2), ("USD", 2), ("JPY", 0), ("VND", 0), ("XOF", 0), ("KWD", 3), ("IQD", 3),
    ("LYD", 3), ("CLF", 4), ("XYZ", 2)])
def test_exponents_follow_iso_4217(currency, digits):
    assert exponent(currency) == digits


def test_a_float_is_refused_rather_than_rounded():
    with pytest.raises(TypeError, match="minor units"):
        format_money(25.41, "INR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        plain_amount(True, "INR")  # type: ignore[arg-type]


def test_plain_amounts_carry_no_symbol_or_grouping():
    assert plain_amount(123_456_789, "INR") == "1234567.89"
    assert plain_amount(-1_500, "JPY") == "-1500"
    assert plain_amount(4_778_311, "KWD") == "4778.311"
