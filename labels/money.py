"""Money and weight as printed, with integer arithmetic only (never floats)."""

from __future__ import annotations

from collections.abc import Iterable

# The one money formatter (stdlib only), shared with the server and the console: the only
# module of core/ that labels/ imports (tests/unit/test_layering.py holds it to that).
from core.domain.money import format_money as format_amount
from core.domain.money import plain_amount
from labels.errors import LabelDataError
from labels.model import Money

__all__ = ["format_amount", "format_money", "format_weight", "plain_amount", "total",
           "totals_by_currency"]


def format_money(money: Money) -> str:
    """`Money(123450, "INR")` -> "₹1,234.50"; `Money(5, "USD")` -> "$0.05"."""
    return format_amount(money.amount_minor, money.currency)


def total(amounts: Iterable[Money], field: str = "amount") -> Money | None:
    """Sum amounts of one currency; None for no amounts; a mix of currencies is an error."""
    items = list(amounts)
    if not items:
        return None
    currencies = {m.currency for m in items}
    if len(currencies) > 1:
        raise LabelDataError(field, f"mixes currencies {sorted(currencies)}")
    return Money(sum(m.amount_minor for m in items), items[0].currency)


def totals_by_currency(amounts: Iterable[Money]) -> list[Money]:
    """Sum amounts per currency, currencies in alphabetical order."""
    sums: dict[str, int] = {}
    for m in amounts:
        sums[m.currency] = sums.get(m.currency, 0) + m.amount_minor
    return [Money(v, k) for k, v in sorted(sums.items())]


def format_weight(grams: int) -> str:
    """1250 -> "1.25 kg", 800 -> "0.8 kg", 12000 -> "12 kg"."""
    kg, g = divmod(grams, 1000)
    return f"{kg}.{str(g).zfill(3).rstrip('0')} kg" if g else f"{kg} kg"
