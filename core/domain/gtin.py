"""GS1 identifiers: GTIN-8/12/13/14 check digits (mod 10, weights 3/1)."""

from core.domain.errors import InvalidArgument


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it."""
    total = sum((3 if i % 2 == 0 else 1) * int(d) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def check_gtin(gtin: str, *, field: str = "gtin") -> str:
    """Return the GTIN if it is 8, 12, 13 or 14 digits with a right check digit."""
    # isascii: str.isdigit() also accepts '٤' and '４', which no barcode ever reads.
    if not (gtin.isascii() and gtin.isdigit()) or len(gtin) not in (8, 12, 13, 14):
        raise InvalidArgument(f"{field} must be 8, 12, 13 or 14 digits, got {gtin[:32]!r}",
                              field=field)
    if gs1_check_digit(gtin[:-1]) != int(gtin[-1]):
        raise InvalidArgument(
            f"{field} {gtin} has a wrong check digit (expected {gs1_check_digit(gtin[:-1])})",
            field=field,
        )
    return gtin
