"""A pick task as the terminal sees it: which line is next and what a barcode means locally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from terminals.words import count

if TYPE_CHECKING:
    from tote.v1 import fulfillment_pb2 as fpb


def gtin14(code: str) -> str | None:
    """A GTIN-8/12/13/14 as 14 digits, so a UPC-A and its EAN-13 read alike (as the server does)."""
    code = code.strip()
    if code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14):
        return code.zfill(14)
    return None


def bin_code(code: str) -> str:
    """A bin label as scanned or as printed, compared trimmed and case-insensitively."""
    return code.strip().casefold()


@dataclass
class Line:
    line_id: str
    order_id: str
    sku: str
    gtin: str
    bin: str
    quantity: int
    picked: int
    missing: int
    name: str = ""

    @property
    def title(self) -> str:
        """What the picker looks for on the shelf: the name, or the SKU when there is none."""
        return self.name or self.sku

    @property
    def left(self) -> int:
        return max(0, self.quantity - self.picked - self.missing)

    @classmethod
    def of(cls, pb: fpb.PickLine) -> Line:
        return cls(pb.line_id, pb.order_id, pb.sku, pb.gtin, pb.bin, pb.quantity, pb.picked,
                   pb.missing, pb.name)


@dataclass
class Task:
    task_id: str
    lines: list[Line]
    # The FC wants each bin's label scanned before the first unit from it.
    confirm_bin_scan: bool = False
    # The bin (as bin_code) whose label was scanned last; kept in memory only, so a restarted
    # terminal asks for the label again.
    confirmed_bin: str = ""
    # The tote's printed code ("T-0042"); empty from a server that has none.
    tote_code: str = ""

    @classmethod
    def of(cls, pb: fpb.PickTask) -> Task:
        return cls(pb.task_id, [Line.of(x) for x in pb.lines], pb.confirm_bin_scan,
                   tote_code=pb.tote_code)

    @property
    def tote(self) -> str:
        """What the packer scans to find this tote: its code, else the task id."""
        return self.tote_code or self.task_id

    @property
    def bin_to_confirm(self) -> str | None:
        """The bin whose label must be scanned before the next unit, or None."""
        line = self.current
        if not self.confirm_bin_scan or line is None or bin_code(line.bin) == self.confirmed_bin:
            return None
        return line.bin

    def is_confirmed_bin(self, barcode: str) -> bool:
        return self.confirm_bin_scan and bool(self.confirmed_bin) and (
            bin_code(barcode) == self.confirmed_bin)

    @property
    def current(self) -> Line | None:
        """The first line (walk order) with units still to pick."""
        return next((ln for ln in self.lines if ln.left), None)

    @property
    def done(self) -> bool:
        return self.current is None

    def line(self, line_id: str) -> Line | None:
        return next((ln for ln in self.lines if ln.line_id == line_id), None)

    def match(self, barcode: str) -> Line | None:
        """The open line this barcode picks a unit of, as the server will choose it."""
        code = gtin14(barcode)
        if code is None:
            return None
        return next((ln for ln in self.lines if ln.left and gtin14(ln.gtin) == code), None)

    def orders(self) -> str:
        return ", ".join(dict.fromkeys(ln.order_id for ln in self.lines))

    def progress(self) -> str:
        units = sum(ln.quantity for ln in self.lines)
        handled = sum(ln.picked + ln.missing for ln in self.lines)
        done = sum(1 for ln in self.lines if not ln.left)
        return (f"line {min(done + 1, len(self.lines))}/{len(self.lines)} · "
                f"{handled}/{count(units, 'unit')}")
