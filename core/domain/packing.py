"""Packing rules: boxes and their tare, the weight gate, the carrier's rate, the final amounts.

Pure functions over integers (grams, minor units); the service layer feeds them rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from core.domain.errors import FailedPrecondition, InvalidArgument
from core.domain.order import PaymentMethod

# The packing station's cartons and what each weighs empty ("" = the item's own packaging).
BOXES: dict[str, int] = {"": 0, "S": 150, "M": 250, "L": 400}


def box_tare(box: str) -> int:
    """Grams an empty box weighs; INVALID_ARGUMENT naming the known boxes otherwise."""
    if box not in BOXES:
        known = ", ".join(f"{name or '(empty: no box)'} {grams} g"
                          for name, grams in BOXES.items())
        raise InvalidArgument(f"box {box[:32]!r} is not one of the packing station's boxes: "
                              f"{known}", field="box")
    return BOXES[box]


@dataclass(frozen=True, slots=True)
class PackedLine:
    """One pick line as it reaches the packing station."""

    sku: str
    quantity: int
    picked: int
    missing: int
    unit_weight_grams: int
    unit_price_minor: int


def check_picked(lines: Iterable[PackedLine]) -> None:
    """A shipment is packed only once every unit was picked or reported short."""
    lines = list(lines)
    wanted = sum(ln.quantity for ln in lines)
    done = sum(ln.picked + ln.missing for ln in lines)
    picked = sum(ln.picked for ln in lines)
    if done < wanted:
        raise FailedPrecondition(
            f"{picked} of {wanted} unit{'s' if wanted != 1 else ''} picked; finish the pick "
            "task first")
    if picked == 0:
        raise FailedPrecondition(
            "every unit of this shipment was reported short: there is nothing to pack")


def expected_weight(lines: Iterable[PackedLine], box: str) -> int:
    """Catalog weight of the units picked plus the box's tare, in grams."""
    return sum(ln.unit_weight_grams * ln.picked for ln in lines) + box_tare(box)


def packed_value(lines: Iterable[PackedLine]) -> int:
    """Catalog value of the units picked, in minor units."""
    return sum(ln.unit_price_minor * ln.picked for ln in lines)


def tolerance(expected_grams: int, pct: int, min_grams: int) -> int:
    """How far the scale may be off: pct % of the expected weight, at least min_grams."""
    return max(-(-expected_grams * pct // 100), min_grams)


def check_weight(measured: int, items_grams: int, box: str, pct: int, min_grams: int) -> None:
    """The weight gate: the box's reading against its items plus the chosen box's tare.

    A refusal names the tare and, when the reading fits another box, that box: a packer who
    chose the wrong size is told so instead of hunting for a unit that is not missing.
    """
    tare = box_tare(box)
    if measured <= 0:
        raise InvalidArgument(f"weight_grams must be the scale's reading in grams, got "
                              f"{measured}", field="weight_grams")
    expected = items_grams + tare
    allowed = tolerance(expected, pct, min_grams)
    off = measured - expected
    if abs(off) <= allowed:
        return
    fits = [name for name, grams in BOXES.items() if name != box and abs(
        measured - items_grams - grams) <= tolerance(items_grams + grams, pct, min_grams)]
    what = ("something is missing from the box" if off < 0
            else "something extra is in the box")
    if fits:
        names = " or ".join(name or "no box" for name in fits)
        what = (f"{measured} g fits {' or '.join(_box_name(name) for name in fits)}: if it is "
                f"in {names}, choose {names}; if not, {what}")
    raise FailedPrecondition(
        f"the box weighs {measured} g measured but {expected} g are expected = {items_grams} g "
        f"of items + {_box_name(box)} (± {allowed} g); {what}: check it against the pick list "
        "and weigh again")


def _box_name(box: str) -> str:
    return f"box {box} {BOXES[box]} g" if box else "its own packaging (no box, 0 g)"


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


@dataclass(frozen=True, slots=True)
class CarrierRate:
    """What the carrier charges tote: a base, per started 500 g, per started 100 km."""

    base_minor: int = 3_000
    per_half_kg_minor: int = 1_000
    per_100_km_minor: int = 500

    def cost(self, weight_grams: int, km: float) -> int:
        """The carrier's charge for one parcel, in minor units."""
        half_kgs = max(1, -(-weight_grams // 500))
        hundreds = math.ceil(km / 100) if km > 0 else 0
        return (self.base_minor + half_kgs * self.per_half_kg_minor
                + hundreds * self.per_100_km_minor)


@dataclass(frozen=True, slots=True)
class FinalAmounts:
    """Money moves when the last parcel of an order is packed."""

    capture_minor: int = 0      # card: taken from the hold (the rest is released)
    refund_minor: int = 0       # upi: the debit beyond what is shipped, given back
    cod_due_minor: int = 0      # cod: what the courier collects at the door


def final_amounts(method: PaymentMethod, packed_minor: int, fee_minor: int,
                  authorized_minor: int) -> FinalAmounts:
    """The final capture for what is actually shipped (all parcels) plus the quoted fee."""
    due = packed_minor + fee_minor
    if method == PaymentMethod.CARD:
        return FinalAmounts(capture_minor=min(due, authorized_minor))
    if method == PaymentMethod.UPI:
        return FinalAmounts(capture_minor=min(due, authorized_minor),
                            refund_minor=max(authorized_minor - due, 0))
    return FinalAmounts(cod_due_minor=due)
