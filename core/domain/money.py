"""Money: integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.domain.errors import InvalidArgument

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# ISO 4217 minor-unit digits of the currencies whose exponent is not 2 (the list of 2024).
_EXPONENT = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
# Symbols a person reads without doubt; every other currency prints its code after the amount.
_SYMBOL = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def check_currency(code: str, *, field: str = "currency") -> str:
    """Return the currency code if it looks like ISO 4217, else raise InvalidArgument."""
    if not _CURRENCY.fullmatch(code or ""):  # (match's $ would let "INR\n" through)
        raise InvalidArgument(
            f"{field} must be a three-letter ISO 4217 code such as INR, got {code[:16]!r}",
            field=field,
        )
    return code


def exponent(currency: str) -> int:
    """Digits after the decimal point in the currency's major unit."""
    return _EXPONENT.get(currency, 2)


def _split(amount_minor: int, currency: str) -> tuple[str, str, str]:
    """(sign, whole units, fraction digits) with integer arithmetic only: never a float."""
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise TypeError(f"an amount is an int of minor units, got {amount_minor!r}")
    exp = exponent(currency)
    whole, frac = divmod(abs(amount_minor), 10**exp)
    return ("-" if amount_minor < 0 else ""), str(whole), (f"{frac:0{exp}d}" if exp else "")


def _group(digits: str, indian: bool) -> str:
    """Thousands separators; rupees in lakhs and crores (12,34,567) as India writes them."""
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups: list[str] = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return ",".join([*groups, tail])


def format_money(amount_minor: int, currency: str) -> str:
    """Money as a person reads it: ₹12,34,567.89, -€19.99, ¥1,500, 4,778.311 KWD.

    The one formatter of tote: events, the console, labels, the demo and the CLI all print
    money through it (labels and the console by way of `labels.money`).
    """
    sign, whole, frac = _split(amount_minor, currency)
    text = _group(whole, currency == "INR") + (f".{frac}" if frac else "")
    symbol = _SYMBOL.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}".rstrip()


def plain_amount(amount_minor: int, currency: str) -> str:
    """The amount in major units without symbol or grouping, e.g. '1234.50' (CSV, UPI links)."""
    sign, whole, frac = _split(amount_minor, currency)
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (paise, cents) of one currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("Money.amount_minor must be an int (minor units), never a float")
        check_currency(self.currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def times(self, quantity: int) -> Money:
        """This amount multiplied by a whole quantity."""
        return Money(self.amount_minor * quantity, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidArgument(f"cannot mix {self.currency} and {other.currency}")

    def decimal_str(self) -> str:
        """The amount as a plain decimal string in major units, e.g. '1234.50' (integer math)."""
        return plain_amount(self.amount_minor, self.currency)

    def __str__(self) -> str:
        """As a person reads it (format_money), e.g. '₹1,234.50'."""
        return format_money(self.amount_minor, self.currency)
