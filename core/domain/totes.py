"""Tote codes: the short code printed on a tote ("T-0042"), from the pick task's tote number.

Numbers come from one counter across tote and are never reused, so a code names one tote for
good: a packer scanning an old label finds its old (packed) task, never someone else's.
"""

from __future__ import annotations

import re

# What a scanner or a person may type: "T-0042", "t42", "T0042", "T 42".
_CODE = re.compile(r"^[Tt][-\s]?0*(\d{1,12})$")


def tote_code(number: int) -> str:
    """The printed code of tote number `number`: at least four digits, "T-0042"."""
    return f"T-{number:04d}"


def tote_number(code: str) -> int | None:
    """The tote number a typed or scanned code names (None: not a tote code)."""
    match = _CODE.match(code.strip())
    if match is None or int(match.group(1)) == 0:
        return None
    return int(match.group(1))
