"""core/domain/cards.py: one detector finds a card number however it is spelled, and takes no
opaque id, GTIN, phone number or timestamp for one."""

from __future__ import annotations

import re

import pytest

from core.domain.cards import ascii_digits, contains_card_number, is_card_number, network
from tests.card_spellings import (
    REPORTED,
    TEST_PANS,
    all_pans,
    seeded_gtins,
    seeded_phones,
    seeded_timestamps,
    seeded_ulids,
    seeded_uuids,
    spellings,
)


@pytest.mark.parametrize("text", REPORTED)
def test_every_spelling_the_report_found_stored_is_a_card_number(text: str) -> None:
    assert contains_card_number(text)


def test_every_network_number_in_every_spelling_is_found() -> None:
    cases = list(spellings())
    assert len(cases) > 10_000
    missed = [text for _, text in cases if not contains_card_number(text)]
    assert missed == [], f"{len(missed)} of {len(cases)}: {missed[:20]}"


@pytest.mark.parametrize("name", sorted(TEST_PANS))
def test_each_network_is_known_by_its_prefix_and_length(name: str) -> None:
    for pan in TEST_PANS[name]:
        assert network(pan) is not None and is_card_number(pan), pan
        assert not is_card_number(pan[:-1] + str((int(pan[-1]) + 1) % 10)), pan  # Luhn
    assert not is_card_number("1" * 15 + "5")  # (no network starts with 1)


def test_mastercard_2_series_is_2221_to_2720() -> None:
    assert network("2221000000000009") and network("2720990000000000")
    assert network("2220990000000000") is None and network("2721000000000000") is None


def test_unicode_digits_are_read_as_digits() -> None:
    assert ascii_digits("٤٢ ４２ ४२ ۴۲") == "42 42 42 42"
    assert contains_card_number("card ４２４２ ４２４２ ４２４２ ４２４２ thanks")


@pytest.mark.parametrize("text", [
    "4242424242424242123",          # a CVV glued on
    "3782822463100051231",          # an Amex with its expiry glued on
    "12314242424242424242",         # the expiry first
    "4242 4242 4242 4242 12/31",    # expiry after, with separators
])
def test_a_card_number_with_an_expiry_or_cvv_glued_on_is_found(text: str) -> None:
    assert contains_card_number(text)


def test_luhn_valid_runs_of_any_card_length_without_a_network_prefix_are_not_cards() -> None:
    # 1, 7 and 9 start no card network's numbers.
    assert not contains_card_number("1000000000000000009")
    assert not contains_card_number("7992739871300000")
    assert not contains_card_number("424242424242424242424242")  # 24 digits: something else


def test_random_uuids_are_never_card_numbers() -> None:
    uuids = seeded_uuids(100_000)
    assert [u.hex for u in uuids if contains_card_number(u.hex)] == []
    for spelled in (str, lambda u: u.hex.upper(), lambda u: f"key-{u.hex}"):
        assert [spelled(u) for u in uuids[:25_000] if contains_card_number(spelled(u))] == []


def test_the_opaque_id_rule_is_what_keeps_uuids_accepted() -> None:
    # Without it, runs between letters would count: these keys hold a prefix+Luhn run.
    tricky = [u.hex for u in seeded_uuids(20_000)
              if any(is_card_number(r) for r in _digit_runs(u.hex))]
    assert len(tricky) > 5
    assert [k for k in tricky if contains_card_number(k)] == []
    # The same run cut out of the id (letters around it, no longer a whole id) is found.
    run = next(r for k in tricky for r in _digit_runs(k) if is_card_number(r) and len(r) > 14)
    assert contains_card_number(f"x{run}y")


def _digit_runs(text: str) -> list[str]:
    return [r for r in re.findall(r"\d+", text) if 13 <= len(r) <= 19]


def test_random_ulids_are_never_card_numbers() -> None:
    ulids = seeded_ulids(100_000)
    assert [u for u in ulids if contains_card_number(u)] == []
    assert [u for u in ulids if contains_card_number(u.lower())] == []


def test_gtins_phones_and_timestamps_are_never_card_numbers() -> None:
    for values in (seeded_gtins(40_000), seeded_phones(20_000), seeded_timestamps(20_000)):
        assert [v for v in values if contains_card_number(v)] == []
    # A GTIN-13 that is also a Luhn-valid Visa-13 length number is still a GTIN.
    both = [g for g in seeded_gtins(40_000) if len(g) == 13 and is_card_number(g)]
    assert both and not any(contains_card_number(f"EAN {g}") for g in both)


def test_a_plus_before_16_or_more_digits_is_no_phone() -> None:
    assert not contains_card_number("+378282246310005")  # 15 digits: an E.164 number
    assert contains_card_number("+4242424242424242")
    assert all(contains_card_number(f"+{p}") for p in all_pans() if len(p) > 15)
