"""One shipment's box as the packer fills it: which units belong, how many are in so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from terminals.picker.task import gtin14

if TYPE_CHECKING:
    from tote.v1 import fulfillment_pb2 as fpb

# A shipment in these states can be packed ("packing": a PackOrder that did not finish resumes).
READY = ("picked", "packing")


@dataclass
class BoxLine:
    line_id: str
    sku: str
    name: str
    gtin: str
    quantity: int  # units picked into the tote for this shipment
    packed: int = 0  # units scanned into the box

    @property
    def title(self) -> str:
        return self.name or self.sku

    @property
    def complete(self) -> bool:
        return self.packed >= self.quantity


@dataclass
class Box:
    order_id: str
    shipment_id: str
    lines: list[BoxLine]
    expected_weight_grams: int

    @classmethod
    def of(cls, pack_list: fpb.PackList) -> Box:
        return cls(pack_list.order_id, pack_list.shipment_id,
                   [BoxLine(ln.line_id, ln.sku, ln.name, ln.gtin, ln.quantity)
                    for ln in pack_list.lines if ln.quantity > 0],
                   pack_list.expected_weight_grams)

    @property
    def units(self) -> int:
        return sum(ln.quantity for ln in self.lines)

    @property
    def packed(self) -> int:
        return sum(min(ln.packed, ln.quantity) for ln in self.lines)

    @property
    def missing(self) -> int:
        return self.units - self.packed

    @property
    def full(self) -> bool:
        return self.missing == 0

    def title_of(self, barcode: str) -> str:
        """The name of the unit a barcode reads (the barcode itself if not in this box)."""
        code = gtin14(barcode)
        line = next((ln for ln in self.lines if code and gtin14(ln.gtin) == code), None)
        return line.title if line else barcode

    def put(self, barcode: str) -> tuple[BoxLine | None, str]:
        """Count one unit into the box: (its line, "") or (None, why it does not go in)."""
        code = gtin14(barcode)
        same = [ln for ln in self.lines if code is not None and gtin14(ln.gtin) == code]
        if not same:
            return None, f"NOT IN THIS BOX: {barcode} is not in shipment {self.shipment_id}"
        line = next((ln for ln in same if not ln.complete), None)
        if line is None:
            done = same[0]
            return None, (f"TOO MANY: all {done.quantity} × {done.title} are in the box "
                          f"already; take this one out")
        line.packed += 1
        return line, ""
