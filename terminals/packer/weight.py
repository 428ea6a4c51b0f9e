"""What the packer typed or scanned at the scale: a weight, or a barcode that is not one.

A scanner types a barcode's digits and Enter, just as a packer types grams, so the two are told
apart by shape: a weight is at most 7 digits (≤ 1 000 000 g) or carries its unit ("1.234 kg",
"850 g"); 8 digits or more, or letters, are a code. A valid GTIN check digit says the code is a
unit's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_GRAMS = 1_000_000
_WITH_UNIT = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(kg|g)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Reading:
    """grams > 0: a weight; else code is the barcode scanned, or why is what is wrong."""

    grams: int = 0
    code: str = ""
    is_gtin: bool = False
    why: str = ""


def gtin_check_digit_ok(code: str) -> bool:
    """A GTIN-8/12/13/14 whose last digit is its mod-10 check digit."""
    if not (code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14)):
        return False
    digits = [int(c) for c in reversed(code[:-1])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits))
    return (10 - total % 10) % 10 == int(code[-1])


def read(text: str) -> Reading:
    """The packer's entry at the weight step, as a weight in grams or a scanned code."""
    text = text.strip()
    if not text:
        return Reading(why="type the box's weight in grams (or let the scale settle)")
    if text.isascii() and text.isdigit():
        if len(text) >= 8:
            return Reading(code=text, is_gtin=gtin_check_digit_ok(text))
        grams = int(text)
    elif (unit := _WITH_UNIT.match(text)) is not None:
        number = float(unit.group(1).replace(",", "."))
        grams = round(number * 1000) if unit.group(2).lower() == "kg" else round(number)
    elif re.fullmatch(r"\d+[.,]\d+", text):
        return Reading(why=f"{text} what? type grams (850) or say the unit: {text} kg")
    else:
        return Reading(code=text)
    if not 0 < grams <= MAX_GRAMS:
        return Reading(why=f"{text} is not a parcel's weight: 1 g to {MAX_GRAMS // 1000} kg")
    return Reading(grams=grams)
