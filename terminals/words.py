"""Counts as a person reads them: "1 unit", "2 units"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str = "") -> str:
    """n and the noun, singular for exactly one ("1 unit", "0 units", "3 shipments")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"

