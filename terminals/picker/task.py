"""A pick task as the terminal sees it: which line is next and what a barcode means locally."""

from __future__ import annotations

from dataclasses import dataclass


def gtin14(code: str) -> str | None:
    """A GTIN-8/12/13/14 as 14 digits, so a UPC-A and its EAN-13 read alike (as the server does)."""
    code = code.strip()
    if code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14):
        return code.zfill(14)
    return None


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

    @property
    def left(self) -> int:
        return max(0, self.quantity - self.picked - self.missing)

    @classmethod
    def of(cls, pb) -> Line:  # type: ignore[no-untyped-def]
        return cls(pb.line_id, pb.order_id, pb.sku, pb.gtin, pb.bin, pb.quantity, pb.picked,
                   pb.missing)


@dataclass
class Task:
    task_id: str
    lines: list[Line]

    @classmethod
    def of(cls, pb) -> Task:  # type: ignore[no-untyped-def]
        return cls(pb.task_id, [Line.of(x) for x in pb.lines])

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
        return f"line {min(done + 1, len(self.lines))}/{len(self.lines)} · {handled}/{units} units"
