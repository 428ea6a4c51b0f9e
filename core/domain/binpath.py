"""The picker's walk through an FC: bins in aisle, bay, level order, serpentine.

Bins are labelled aisle-bay-level ("A-03-2"). A picker walks odd aisles up the bays and even
aisles back down, so consecutive aisles join at the same end and nobody walks an aisle twice.
Labels that do not look like that are read leniently, and anything else comes after the
parsed bins in natural order ("B10" after "B9").
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-_./:]+")
_CHUNKS = re.compile(r"(\d+)")


def _number(part: str) -> int | None:
    """A bin part as a number: digits as they read, letters as A=1 … Z=26, AA=27 …."""
    if part.isascii() and part.isdigit():
        return int(part)
    if part.isascii() and part.isalpha():
        value = 0
        for ch in part.upper():
            value = value * 26 + (ord(ch) - ord("A") + 1)
        return value
    return None


def parse_bin(label: str) -> tuple[int, int, int] | None:
    """(aisle, bay, level) of a bin label like "A-03-2" or "a 3", else None."""
    parts = [p for p in _SEPARATORS.split(label.strip()) if p]
    if len(parts) not in (2, 3):
        return None
    numbers = [_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    aisle, bay, *rest = numbers
    assert aisle is not None and bay is not None
    return aisle, bay, (rest[0] or 0) if rest else 0


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders digit runs by value: "B9" before "B10"."""
    return tuple((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk.casefold())
                 for chunk in _CHUNKS.split(text) if chunk)


def walk_key(label: str) -> tuple[object, ...]:
    """Sort key of a bin along the serpentine path (odd aisles up the bays, even aisles down)."""
    parsed = parse_bin(label)
    if parsed is None:
        return (1, natural_key(label))
    aisle, bay, level = parsed
    return (0, aisle, bay if aisle % 2 == 1 else -bay, level)


def walk_order(labels: list[str]) -> list[str]:
    """The labels in the order a picker reaches them."""
    return sorted(labels, key=walk_key)
