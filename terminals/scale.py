"""A packing station's serial scale: the lines it prints ("ST,GS,+  1.234 kg", "1234 g", …) as
whole grams, read off the serial line (pyserial) on a worker thread."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

# Grams per unit, exact.
_UNITS = {"kg": Decimal(1000), "g": Decimal(1), "lb": Decimal("453.59237"),
          "oz": Decimal("28.349523125")}
# Optional status fields (ST stable, US unstable, OL overload; GS gross, NT net, TR tare), or a
# Mettler-style "S S"/"S D" head, then a signed number and its unit.
_LINE = re.compile(
    r"""^\s*(?P<head>(?:[A-Z]{2}\s*,\s*)*|S\s+[SD]\s+)
        (?P<sign>[+-])?\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>kg|g|lb|oz)\s*$""",
    re.IGNORECASE | re.VERBOSE)
_NOT_A_WEIGHT = {"US", "OL", "UL", "TR", "D"}  # unstable, overload, underload, tare, dynamic

DEFAULT_BAUD = 9600


def grams(line: str) -> int | None:
    """A stable, non-negative reading in whole grams (half a gram rounds up); None for anything
    else: an unstable or overloaded reading, a tare line, a negative weight, noise."""
    match = _LINE.match(line)
    if match is None:
        return None
    fields = set(re.findall(r"[A-Z]+", match["head"].upper()))
    if fields & _NOT_A_WEIGHT or match["sign"] == "-":
        return None
    value = Decimal(match["number"]) * _UNITS[match["unit"].lower()]
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_spec(spec: str) -> tuple[str, int]:
    """`/dev/ttyUSB0` or `/dev/ttyUSB0:4800` → (port, baud)."""
    port, sep, baud = spec.rpartition(":")
    if sep and baud.isdigit() and port:
        return port, int(baud)
    return spec, DEFAULT_BAUD


class Scale:
    """Reads the port until `cancelled()`; each stable reading that differs from the one before
    goes to `on_weight(grams)`. A port that cannot be opened or read raises OSError."""

    def __init__(self, spec: str) -> None:
        self.port, self.baud = split_spec(spec)

    def run(self, on_weight: Callable[[int], None], cancelled: Callable[[], bool]) -> None:
        import serial  # pyserial

        last: int | None = None
        buffer = b""
        synced = False  # the port may open in the middle of a line: skip to its end first
        with serial.Serial(self.port, self.baud, timeout=0.1) as line:
            while not cancelled():
                buffer += line.read(max(1, line.in_waiting))
                *lines, buffer = re.split(rb"[\r\n]", buffer)
                if lines and not synced:
                    lines, synced = lines[1:], True
                for raw in lines:
                    weight = grams(raw.decode("ascii", errors="replace"))
                    if weight is not None and weight != last:
                        last = weight
                        on_weight(weight)
                buffer = buffer[-256:]  # a line that never ends is noise
