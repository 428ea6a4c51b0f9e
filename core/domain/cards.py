"""Spotting card numbers (PANs) so they are refused before they can be stored or logged.

One detector for every text a client sends (server/fields.py runs it over every string of
every request). A text holds a card number when, after Unicode digits are read as digits
(Arabic-Indic, Devanagari, fullwidth: unicodedata), it has a run of digits — joined by at
most three separators (whitespace incl. tab and NBSP, . _ / \\ - and the Unicode dashes),
letters around it or not — that has a card network's prefix and length and passes Luhn.

What is not a card number, on purpose (false positives are refusals of real requests):
- opaque ids: a whole UUID (dashed or 32 hex), a longer hex string (a digest) or a ULID is
  skipped: their random digit runs pass prefix+Luhn about once in 500 keys. A card number
  disguised as such an id is not found: the price of never refusing a storefront's keys;
- '+' and 8-15 digits: an E.164 phone (no card number follows a '+'; 16-19 digits do count);
- a lone 13- or 14-digit run with a right GS1 check digit: a GTIN (13-digit Visa and 14-digit
  Diners numbers are retired; GTINs are everywhere in a warehouse's text);
- runs of 24 digits or more: some other number. A run 3 or 4 digits longer than a card
  number is one with a CVV or an expiry (MMYY) glued on when its first or last 15, 16 or 19
  digits are one: a 20-digit run holding a card number is refused, Luhn-valid or not.
Timestamps of this century do not look like cards: a year 19xx/20xx is no network's prefix
(Mastercard's 2-series starts at 2221) and unix times until 2038 start with 1 or 20/21. (Unix
microseconds from 2040 on do start 2221-2720 with 16 digits, like a Mastercard number.)
"""

from __future__ import annotations

import re
import unicodedata

MIN_DIGITS = 13
MAX_DIGITS = 19
# A card number with a 4-digit expiry or a CVV glued to it, at most.
_MAX_GLUED = MAX_DIGITS + 4

_SEPARATORS = " \t\n\r\f\v\u00a0\u2007\u202f\u3000._/\\\\\\-\u2010-\u2015\u2212"
_RUN = re.compile(rf"\d(?:[{_SEPARATORS}]{{0,3}}\d)+")
# Most text has no 13 digits at all, or no run of 13: a scan for each spares the rest.
_THIRTEEN_DIGITS = re.compile(rf"(?:\D*\d){{{MIN_DIGITS}}}")
_LONG_RUN = re.compile(rf"\d(?:[{_SEPARATORS}]{{0,3}}\d){{{MIN_DIGITS - 1}}}")
_GROUP = re.compile(r"\d+")
# Whole opaque ids, skipped: UUID (dashed or not), hex digests, ULID (Crockford base32, its
# first character 0-7). Bounded by non-alphanumerics so that "x4242…" or "4242…a" is no id.
_OPAQUE = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?=[0-9]*[a-fA-F])[0-9a-fA-F]{32,}"
    r"|(?=[0-9]*[A-HJKMNP-TV-Za-hjkmnp-tv-z])[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}"
    r")(?![0-9A-Za-z])")
_MAX_PHONE = 15

# (first digits low..high, lengths): Visa, Mastercard (51-55, 2221-2720), Amex, Discover,
# JCB, Diners, UnionPay, Maestro, RuPay. Ranges are compared on the same number of digits.
_NETWORKS: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),                      # Visa
    ("51", "55", frozenset({16})),                            # Mastercard
    ("2221", "2720", frozenset({16})),                        # Mastercard 2-series
    ("34", "34", frozenset({15})), ("37", "37", frozenset({15})),  # Amex
    ("6011", "6011", frozenset(range(16, 20))),               # Discover
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),                   # Discover, RuPay
    ("3528", "3589", frozenset(range(16, 20))),               # JCB
    ("300", "305", frozenset(range(14, 20))),                 # Diners
    ("3095", "3095", frozenset(range(14, 20))),
    ("36", "36", frozenset(range(14, 20))),
    ("38", "39", frozenset(range(16, 20))),
    ("62", "62", frozenset(range(16, 20))),                   # UnionPay
    ("81", "82", frozenset(range(16, 20))),                   # RuPay, UnionPay 81
    ("50", "50", frozenset(range(13, 20))),                   # Maestro
    ("56", "69", frozenset(range(13, 20))),                   # Maestro, RuPay 60
    ("508", "508", frozenset({16})),                          # RuPay
    ("353", "353", frozenset({16})), ("356", "356", frozenset({16})),
)
_GLUED_WINDOWS = (16, 15, 19)


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn check used by card numbers."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def network(digits: str) -> str | None:
    """The prefix of the card network whose numbers look like `digits`, or None."""
    n = len(digits)
    for low, high, lengths in _NETWORKS:
        if n in lengths and low <= digits[:len(low)] <= high:
            return low
    return None


def is_card_number(digits: str) -> bool:
    """ASCII digits that are a card number: a network's prefix and length, and Luhn."""
    return network(digits) is not None and luhn_valid(digits)


def _gtin(digits: str) -> bool:
    body, check = digits[:-1], ord(digits[-1]) - 48
    total = sum((3 if i % 2 == 0 else 1) * (ord(d) - 48) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def ascii_digits(text: str) -> str:
    """text with every Unicode digit as its ASCII digit (and NFKC: fullwidth, NBSP → space)."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.digit(ch)) if not ch.isascii() and ch.isdigit() else ch
                   for ch in text)


def _run_is_card(text: str, run: re.Match[str]) -> bool:
    digits = "".join(_GROUP.findall(run.group()))
    n = len(digits)
    if n < MIN_DIGITS:
        return False
    start = run.start()
    if start and text[start - 1] == "+" and n <= _MAX_PHONE:
        return False  # an E.164 phone number
    if n <= MAX_DIGITS and is_card_number(digits):
        return not (n in (13, 14) and _gtin(digits))
    if n <= _MAX_GLUED and any(n - w in (3, 4) and (is_card_number(digits[:w]) or
                                                    is_card_number(digits[-w:]))
                               for w in _GLUED_WINDOWS):
        return True
    # A group of its own (between separators) may still be a whole card number.
    return any(MIN_DIGITS <= len(g) <= MAX_DIGITS and is_card_number(g)
               for g in _GROUP.findall(run.group()) if len(g) < n)


def contains_card_number(text: str) -> bool:
    """True when text holds a card number, however it is spelled (see the module's notes)."""
    if len(text) < MIN_DIGITS:
        return False
    if not text.isascii():
        text = ascii_digits(text)
    if _THIRTEEN_DIGITS.match(text) is None or _LONG_RUN.search(text) is None:
        return False
    if len(text) >= 26:  # (the shortest opaque id)
        text = _OPAQUE.sub("|", text)  # (no separator: what was apart stays apart)
    return any(_run_is_card(text, m) for m in _RUN.finditer(text))
