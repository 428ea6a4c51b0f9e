"""The shipping fee quoted at placement, from the catalog weights and a rate table."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class RateTable:
    """Weight bands in grams with a fee each (minor units), then a fee per extra step above."""

    bands: tuple[tuple[int, int], ...] = ((500, 4000), (2000, 7000), (5000, 12000))
    step_grams: int = 1000
    step_fee_minor: int = 2500

    @classmethod
    def parse(cls, text: str) -> RateTable:
        """Parse 'UP_TO_G:FEE,...,+STEP_G:FEE', e.g. '500:4000,2000:7000,+1000:2500'."""
        bands: list[tuple[int, int]] = []
        step = (1000, 0)
        try:
            for part in filter(None, (p.strip() for p in text.split(","))):
                grams, fee = part.split(":")
                if grams.startswith("+"):
                    step = (int(grams[1:]), int(fee))
                else:
                    bands.append((int(grams), int(fee)))
        except ValueError:
            raise InvalidArgument(
                f"shipping rate table {text!r} is not 'UP_TO_G:FEE,...,+STEP_G:FEE' "
                "(grams and minor units, e.g. 500:4000,2000:7000,+1000:2500)"
            ) from None
        if not bands or step[0] <= 0 or any(g <= 0 or f < 0 for g, f in bands):
            raise InvalidArgument(f"shipping rate table {text!r} needs at least one positive band")
        return cls(tuple(sorted(bands)), step[0], step[1])

    def quote(self, weight_grams: int) -> int:
        """Fee in minor units for a parcel of this weight."""
        for up_to, fee in self.bands:
            if weight_grams <= up_to:
                return fee
        top, top_fee = self.bands[-1]
        extra_steps = -(-(weight_grams - top) // self.step_grams)  # ceiling division
        return top_fee + extra_steps * self.step_fee_minor
