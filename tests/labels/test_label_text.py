"""Text fitting and money formatting: the small parts every document relies on."""

from __future__ import annotations

import unicodedata

import pytest

from labels import Money, fonts, format_money, format_weight
from labels.spec import Box
from labels.text import ELLIPSIS, Para, fit, wrap


def test_a_word_wider_than_the_box_is_split_and_every_piece_fits():
    word = "X" * 120
    lines = wrap(word, 100, 10)
    assert "".join(lines) == word and len(lines) > 1
    assert all(fonts.text_width(ln, 10) <= 100 for ln in lines)


def test_devanagari_is_never_split_inside_a_syllable():
    word = "क्षत्रियक्षत्रियक्षत्रियक्षत्रियक्षत्रिय"
    pieces = wrap(word, 40, 10)
    assert len(pieces) > 2 and "".join(pieces) == word
    for piece in pieces[1:]:
        assert not unicodedata.category(piece[0]).startswith("M"), piece
    for piece in pieces[:-1]:
        assert piece[-1] != "\u094d", piece  # no line ends on a virama


def test_text_that_cannot_fit_even_at_the_floor_size_is_cut_with_an_ellipsis_inside_the_box():
    box = Box(10, 10, 120, 30)
    lines = fit([Para("word " * 200, 12, min_size=6)], box)
    assert lines and lines[-1].text.endswith(ELLIPSIS)
    assert all(ln.size == 6 for ln in lines)
    assert all(box.contains(ln.box) for ln in lines)


def test_paragraphs_shrink_together_and_keep_their_proportions():
    box = Box(0, 0, 200, 60)
    lines = fit([Para("Name " * 8, 16, bold=True), Para("street " * 20, 10)], box)
    assert all(box.contains(ln.box) for ln in lines)
    big = {ln.size for ln in lines if ln.bold}
    small = {ln.size for ln in lines if not ln.bold}
    assert len(big) == len(small) == 1
    assert big.pop() / small.pop() == pytest.approx(1.6)


def test_text_that_fits_keeps_its_size_and_words():
    lines = fit([Para("Ananya Sharma", 14)], Box(0, 0, 200, 40))
    assert [(ln.text, ln.size) for ln in lines] == [("Ananya Sharma", 14)]


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(123450, "INR"), "₹1,234.50"),
        (Money(123456789, "INR"), "₹12,34,567.89"),
        (Money(5, "USD"), "$0.05"),
        (Money(-1999, "EUR"), "-€19.99"),
        (Money(1234567, "JPY"), "¥1,234,567"),
        (Money(4778311, "KWD"), "4,778.311 KWD"),
        (Money(10**17 + 1, "INR"), "₹1,00,00,00,00,00,00,000.01"),
    ],
)
def test_money_is_formatted_with_integer_arithmetic(money, text):
    assert format_money(money) == text


@pytest.mark.parametrize(
    ("grams", "text"), [(1, "0.001 kg"), (800, "0.8 kg"), (1250, "1.25 kg"), (70000, "70 kg")]
)
def test_weight_is_printed_in_kilograms(grams, text):
    assert format_weight(grams) == text
