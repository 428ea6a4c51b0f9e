"""The demo's terminal: event lines with a live status line, and the closing tables."""

from __future__ import annotations

import collections
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TextIO

from core.domain.money import format_money
from tote.v1 import common_pb2, shipping_pb2

STATUS = {v: k.removeprefix("ORDER_STATUS_") for k, v in common_pb2.OrderStatus.items()}
# The statuses an order passes through, in the order of the saga (the live line shows these).
FLOW = ("PENDING", "PROCESSING", "PICKING", "PACKED", "SHIPPED", "DELIVERED", "CANCELLED")


def money(amount_minor: int, currency: str = "INR") -> str:
    """Minor units as a person reads them (tote's one formatter), e.g. ₹1,234.50."""
    return format_money(amount_minor, currency or "INR")


class Console:
    """Prints event lines; on a terminal the status line stays at the bottom, redrawn.

    Only a terminal's lines are cut to its width (a wrapped line would break the redrawn
    status line); written to a file or a pipe, every line is printed whole.
    """

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self.started = time.monotonic()
        self._status = ""
        self._printed_status = ""

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def paint(self, text: str, code: str | None) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if code and self.tty else text

    def fit(self, text: str) -> str:
        """The text cut to the terminal's width on a terminal; whole anywhere else."""
        if not self.tty:
            return text
        width = shutil.get_terminal_size().columns - 1
        return text if len(text) <= width else text[:max(width - 1, 0)] + "…"

    def _print(self, text: str = "", end: str = "\n") -> None:
        print(text, end=end, file=self.out, flush=True)

    def line(self, text: str, color: str | None = None) -> None:
        """One event line, timestamped."""
        out = self.paint(self.fit(f"{self.elapsed():6.1f}s  {text}"), color)
        if self.tty and self._status:
            self._print(f"\r\x1b[K{out}\n{self._status}", end="")
        else:
            self._print(out)

    def status(self, counts: Mapping[str, int]) -> None:
        """The live summary by status: redrawn in place on a terminal, else a line on change."""
        text = f"{self.elapsed():6.1f}s  [" + " · ".join(
            f"{name} {counts.get(name, 0)}" for name in FLOW) + "]"
        # One row only, or clearing it before the next event line would leave half of it.
        self._status = self.paint(self.fit(text), "1")
        summary = text.split("[", 1)[1]
        if self.tty:
            self._print(f"\r\x1b[K{self._status}", end="")
        elif summary != self._printed_status:
            self._print(text)
        self._printed_status = summary

    def end_live(self) -> None:
        """Leave the status line where it is and go on below it."""
        if self.tty and self._status:
            self._print()
        self._status = ""


def table(title: str, rows: Iterable[tuple[str, ...]]) -> None:
    """A small left/right aligned table: the first column left, the others right."""
    rows = list(rows)
    print(f"\n{title}")
    if not rows:
        print("  (none)")
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                          strict=True)]
        print("  " + "   ".join(cells).rstrip())


def orders_table(statuses: Mapping[str, str], kinds: Mapping[str, str]) -> None:
    counts = collections.Counter(statuses[o] for o in kinds)
    table("orders by status:", [(name, str(counts[name])) for name in FLOW if counts[name]])
    by_method = collections.Counter((kinds[o].split(" ")[0], statuses[o]) for o in kinds)
    table("orders by payment method and final status:",
          [(f"{method:<5} {status}", str(n)) for (method, status), n in sorted(by_method.items())])


def ledger_table(entries: list[dict[str, object]]) -> None:
    sums: dict[tuple[str, str], list[int]] = collections.defaultdict(lambda: [0, 0])
    for e in entries:
        key = (f"{e['kind']} ({e['status']})", str(e.get("currency") or "INR"))
        sums[key][0] += 1
        sums[key][1] += int(e["amount_minor"])  # type: ignore[call-overload]  # a ledger entry's amount is a JSON int
    table("sandbox gateway ledger by kind:",
          [(kind, f"×{n}", money(total, currency))
           for (kind, currency), (n, total) in sorted(sums.items())])


def cod_table(rec: shipping_pb2.CodReconciliation) -> None:
    cur = rec.expected.currency or "INR"
    table("cash on delivery, carrier sandbox:", [
        ("expected (delivered COD parcels)", money(rec.expected.amount_minor, cur)),
        ("collected by the couriers", money(rec.collected.amount_minor, cur)),
        ("remitted to the shop", money(rec.remitted.amount_minor, cur)),
        ("discrepancies", str(len(rec.discrepancies)))])
    for d in rec.discrepancies:
        print(f"  ! {d.kind}: {d.tracking_number} expected "
              f"{money(d.expected.amount_minor, cur)}, got {money(d.actual.amount_minor, cur)}"
              f" — {d.detail}")
