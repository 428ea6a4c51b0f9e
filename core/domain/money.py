"""Money: integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.domain.errors import InvalidArgument

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Minor units per major unit for the currencies whose exponent is not 2.
_EXPONENT = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3,
             "JOD": 3, "TND": 3}


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
        exp = exponent(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = divmod(abs(self.amount_minor), 10**exp)
        return f"{sign}{whole}.{frac:0{exp}d}" if exp else f"{sign}{whole}"

    def __str__(self) -> str:
        return f"{self.currency} {self.decimal_str()}"
