"""Card numbers as people (and attackers) spell them, and look-alikes that are no card numbers.

Shared by the detector's unit tests and the live-server sweep: every network's test numbers ×
every separator × text around them × every digit script, and seeded opaque ids, GTINs, phones
and timestamps that must pass.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

from core.domain.cards import luhn_valid

# Published test numbers, one or more per network (all Luhn-valid).
TEST_PANS: dict[str, list[str]] = {
    "visa": ["4242424242424242", "4111111111111111", "4000056655665556", "4222222222222",
             "4000000000000000006"],
    "mastercard": ["5555555555554444", "5105105105105100", "2223003122003222"],
    "amex": ["378282246310005", "371449635398431"],
    "discover": ["6011111111111117", "6011000990139424"],
    "jcb": ["3530111333300000", "3566002020360505"],
    "diners": ["30569309025904", "36227206271667"],
    "unionpay": ["6200000000000005", "6250941006528599"],
    "maestro": ["6759649826438453", "6799990100000000019"],
}

# The spellings the report found stored (tote issue 13), verbatim.
REPORTED = [
    "4242.4242.4242.4242", "4242_4242_4242_4242", "4242/4242/4242/4242",
    "4242\t4242\t4242\t4242", "4242  4242  4242  4242", "4242\u00a04242\u00a04242\u00a04242",
    "x4242424242424242", "4242424242424242a", "+4242424242424242",
    "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "42424242424242424242", "4242424242424242@upi",
]

SEPARATORS = ["", " ", "-", ".", "_", "/", "\t", "  ", "\u00a0", " - ", "\u2013", "\u3000"]
AROUND = ["{}", "x{}", "{}a", "+{}", "card: {}", "{}@upi", "tok_{}", "({})", "{}1231"]
# Zero of each digit script: ASCII, Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali,
# fullwidth.
DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x966, 0x9E6, 0xFF10]


def all_pans() -> list[str]:
    pans = [p for ps in TEST_PANS.values() for p in ps]
    assert all(luhn_valid(p) for p in pans)
    return pans


def grouped(pan: str, sep: str) -> str:
    """The number in the groups its length is printed in (4-4-4-4, Amex 4-6-5, …)."""
    sizes = {13: (4, 4, 5), 14: (4, 6, 4), 15: (4, 6, 5), 16: (4, 4, 4, 4),
             19: (4, 4, 4, 4, 3)}.get(len(pan), (len(pan),))
    out, i = [], 0
    for size in sizes:
        out.append(pan[i:i + size])
        i += size
    return sep.join(out)


def in_script(text: str, zero: int) -> str:
    return "".join(chr(zero + ord(c) - 48) if c.isascii() and c.isdigit() else c for c in text)


def spellings() -> Iterator[tuple[str, str]]:
    """(the number's ASCII digits, a spelling of it) for every combination."""
    for pan in all_pans():
        for sep in SEPARATORS:
            for around in AROUND:
                if around == "+{}" and len(pan) <= 15:
                    continue  # '+' and up to 15 digits is an E.164 phone (documented)
                if around == "{}1231" and len(pan) < 15:
                    continue  # glued expiries are looked for after 15, 16 and 19 digits
                for zero in DIGIT_ZEROS:
                    yield pan, around.format(in_script(grouped(pan, sep), zero))


def seeded_uuids(n: int, seed: int = 13) -> list[uuid.UUID]:
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n)]


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def seeded_ulids(n: int, seed: int = 26) -> list[str]:
    """ULIDs of the last few years (48-bit milliseconds, 80 random bits), Crockford base32."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        value = rng.randrange(1_500_000_000_000, 1_900_000_000_000) << 80 | rng.getrandbits(80)
        out.append("".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26))))
    return out


def gs1_complete(body: str) -> str:
    total = sum((3 if i % 2 == 0 else 1) * int(d) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def seeded_gtins(n: int, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    return [gs1_complete("".join(rng.choice("0123456789") for _ in range(length - 1)))
            for length in (8, 12, 13, 14) for _ in range(n // 4)]


def seeded_phones(n: int, seed: int = 164) -> list[str]:
    """E.164 numbers of 8 to 15 digits, plain and grouped."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        digits = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789")
                                                  for _ in range(rng.randint(7, 14)))
        out.append("+" + (digits if rng.random() < 0.5 else " ".join(
            digits[i:i + 4] for i in range(0, len(digits), 4))))
    return out


def seeded_timestamps(n: int, seed: int = 1970) -> list[str]:
    """Unix seconds, milliseconds and microseconds, ISO 8601 and compact, 2000 to 2038.

    (Later ones can look like cards: microseconds from 2040 start 2221-2720 like Mastercard's
    16 digits, seconds from 2065 start 3 — documented in core/domain/cards.py.)"""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = rng.randrange(946_684_800, 2**31)
        us = rng.randrange(1_000_000)
        y, mo, d = rng.randint(2000, 2038), rng.randint(1, 12), rng.randint(1, 28)
        h, mi, sec = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
        out += [str(s), str(s * 1000 + us // 1000), str(s * 1_000_000 + us),
                f"{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{us:06}Z",
                f"{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{sec:02}",
                f"{y}{mo:02}{d:02}{h:02}{mi:02}{sec:02}"]
    return out
