"""Spotting raw card numbers so they are refused before they can be stored or logged."""

import re

# 13-19 digits, optionally grouped by spaces or dashes as people type them, standing alone: a
# run glued to letters or digits is part of an opaque id (a hex UUID, a ULID), and one after
# '+' is an E.164 phone number. Without these bounds about 1 in 300 random hex idempotency
# keys "held a card number".
_DIGITS_RUN = re.compile(r"(?<![0-9A-Za-z+])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
_SEPARATOR = re.compile(r"[ -]")
# Card numbers are written in groups of 4-6 (4-4-4-4, 4-6-5); a UUID's groups of 8 and 12
# digits joined by dashes are not one.
_LONGEST_GROUP = 6


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


def _looks_like_card(run: str) -> bool:
    groups = _SEPARATOR.split(run)
    if len(groups) > 1 and max(len(g) for g in groups) > _LONGEST_GROUP:
        # Not one grouped number, but a group of its own may still be a whole card number.
        return any(len(g) >= 13 and luhn_valid(g) for g in groups)
    return luhn_valid("".join(groups))


def contains_card_number(text: str) -> bool:
    """True when text holds a lone run of 13–19 digits (spaces/dashes allowed) passing Luhn."""
    return any(_looks_like_card(m.group()) for m in _DIGITS_RUN.finditer(text))
