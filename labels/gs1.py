"""GS1 check digits: GTIN-8/12/13/14 and SSCC-18 (mod 10, weights 3 and 1 from the right)."""

from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for `body` (all digits but the check digit)."""
    if not body.isascii() or not body.isdigit():
        raise ValueError(f"GS1 numbers are digits only, got {body!r}")
    # Weight 3 on the digit next to the check digit, then alternating 1, 3 leftwards.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _valid(number: str, lengths: tuple[int, ...]) -> bool:
    if not isinstance(number, str) or len(number) not in lengths:
        return False
    if not number.isascii() or not number.isdigit():
        return False
    return check_digit(number[:-1]) == int(number[-1])


def is_valid_gtin(number: str) -> bool:
    """True for a GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14 with a correct check digit."""
    return _valid(number, GTIN_LENGTHS)


def is_valid_sscc(number: str) -> bool:
    """True for an 18-digit SSCC with a correct check digit."""
    return _valid(number, (18,))


def gtin14(number: str) -> str:
    """A valid GTIN as its 14-digit form (zeros on the left); ValueError when invalid."""
    if not is_valid_gtin(number):
        raise ValueError(f"not a valid GTIN: {number!r}")
    return number.zfill(14)


def make_sscc(extension: int, company_prefix: str, serial: int) -> str:
    """Build an SSCC-18 from extension digit, GS1 company prefix and serial reference."""
    if not 0 <= extension <= 9:
        raise ValueError("extension digit must be 0-9")
    if not company_prefix.isdigit() or not 6 <= len(company_prefix) <= 12:
        raise ValueError("company prefix must be 6-12 digits")
    serial_len = 16 - len(company_prefix)
    if not 0 <= serial < 10**serial_len:
        raise ValueError(f"serial must fit in {serial_len} digits")
    body = f"{extension}{company_prefix}{serial:0{serial_len}d}"
    return body + str(check_digit(body))
