"""Spotting raw card numbers so they are refused before they can be stored or logged."""

import re

# 12-19 digits, optionally grouped by spaces or dashes as people type them.
_DIGITS_RUN = re.compile(r"\d(?:[ -]?\d){11,18}(?!\d)")


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


def contains_card_number(text: str) -> bool:
    """True when text holds a run of 12–19 digits (spaces/dashes allowed) that passes Luhn."""
    for match in _DIGITS_RUN.finditer(text):
        if luhn_valid(re.sub(r"[ -]", "", match.group())):
            return True
    return False
