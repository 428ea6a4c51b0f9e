"""Money and weight as printed, with integer arithmetic only (never floats)."""

from __future__ import annotations

from collections.abc import Iterable

from labels.errors import LabelDataError
from labels.model import Money

# Minor-unit digits per ISO 4217 code; anything not listed has two.
_EXPONENT = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "LYD": 3,
    "IQD": 3,
}
_SYMBOL = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def _group(digits: str, indian: bool) -> str:
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3  # lakh/crore grouping for rupees: 12,34,567
    groups = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return ",".join(groups + [tail])


def format_money(money: Money) -> str:
    """`Money(123450, "INR")` -> "₹1,234.50"; `Money(5, "USD")` -> "$0.05"."""
    exp = _EXPONENT.get(money.currency, 2)
    sign = "-" if money.amount_minor < 0 else ""
    whole, minor = divmod(abs(money.amount_minor), 10**exp)
    text = _group(str(whole), money.currency == "INR")
    if exp:
        text += "." + str(minor).zfill(exp)
    symbol = _SYMBOL.get(money.currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {money.currency}"


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
