"""Label geometry (`LabelSpec`), in PDF points from the bottom-left corner, apart from drawing."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.pagesizes import A6, inch

from labels.errors import LabelError


@dataclass(frozen=True)
class Box:
    """A rectangle: lower-left corner (x, y), width and height in points."""

    x: float
    y: float
    w: float
    h: float

    @property
    def top(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w

    def inset(self, d: float) -> Box:
        """The box shrunk by `d` on every side."""
        return Box(self.x + d, self.y + d, self.w - 2 * d, self.h - 2 * d)

    def contains(self, other: Box, slack: float = 0.01) -> bool:
        """True when `other` lies inside this box."""
        return (
            other.x >= self.x - slack
            and other.y >= self.y - slack
            and other.right <= self.right + slack
            and other.top <= self.top + slack
        )

    def overlaps(self, other: Box) -> bool:
        """True when the two boxes share any area."""
        return not (
            other.x >= self.right
            or other.right <= self.x
            or other.y >= self.top
            or other.top <= self.y
        )


@dataclass(frozen=True)
class LabelSpec:
    """Page size, margins and the region of each block of a shipping label."""

    name: str
    width: float
    height: float
    margin: float
    dpi: int  # the label printer's resolution: barcode modules are whole printer dots
    ship_from: Box
    ship_to: Box
    carrier: Box
    sort_code: Box
    details: Box
    cod: Box
    qr: Box
    tracking: Box

    @property
    def page(self) -> Box:
        return Box(0, 0, self.width, self.height)

    @property
    def printable(self) -> Box:
        return self.page.inset(self.margin)

    @property
    def dot(self) -> float:
        """One printer dot in points."""
        return 72 / self.dpi


def _layout(name: str, width: float, height: float, margin: float = 9, dpi: int = 203) -> LabelSpec:
    """Stack the blocks top to bottom; heights are shares of the printable height."""
    inner_w, inner_h = width - 2 * margin, height - 2 * margin
    shares = {"from": 50, "to": 128, "carrier": 46, "details": 100, "tracking": 90}
    scale = inner_h / sum(shares.values())
    h = {k: v * scale for k, v in shares.items()}
    top = height - margin
    x = margin

    def take(key: str) -> tuple[float, float]:
        nonlocal top
        top -= h[key]
        return top, h[key]

    y, hh = take("from")
    ship_from = Box(x, y, inner_w, hh)
    y, hh = take("to")
    ship_to = Box(x, y, inner_w, hh)
    y, hh = take("carrier")
    sort_w = round(inner_w * 0.38)
    carrier = Box(x, y, inner_w - sort_w, hh)
    sort_code = Box(x + inner_w - sort_w, y, sort_w, hh)
    y, hh = take("details")
    qr = Box(x + inner_w - hh, y, hh, hh)
    cod_h = hh * 0.42
    details = Box(x, y + cod_h, inner_w - hh, hh - cod_h)
    cod = Box(x, y, inner_w - hh, cod_h)
    y, hh = take("tracking")
    # Full page width: the Code128 quiet zones may lie in the white margin, which is what
    # lets an 18-character tracking number print with 3-dot modules on a 4 in label.
    tracking = Box(0, y, width, hh)
    return LabelSpec(
        name,
        width,
        height,
        margin,
        dpi,
        ship_from,
        ship_to,
        carrier,
        sort_code,
        details,
        cod,
        qr,
        tracking,
    )


LABEL_4X6 = _layout("4x6", 4 * inch, 6 * inch)
LABEL_A6 = _layout("a6", *A6)
SIZES = {"4x6": LABEL_4X6, "a6": LABEL_A6}


def spec_for(size: str) -> LabelSpec:
    """The LabelSpec for a size name: "4x6" or "a6"."""
    try:
        return SIZES[size.lower()]
    except KeyError:
        raise LabelError(f"size: unknown label size {size!r}; use one of {sorted(SIZES)}") from None
