"""What goes on labels and warehouse paperwork: frozen dataclasses, checked when built.

The library takes these, never protobuf messages, so it can be used without the server.
Money is integer minor units plus an ISO 4217 code and is never a float.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from labels import fonts
from labels.errors import LabelDataError

# Longest text that still fits its box at the smallest legible size; longer is a data error.
MAX_NAME = 100
MAX_LINE = 200
MAX_CITY = 80
MAX_POSTAL = 16
MAX_PHONE = 32
MAX_CODE128 = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CODE128_SAFE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces


def check_text(name: str, value: object, *, limit: int, required: bool) -> None:
    """Refuse text that is missing, too long, or has characters the label fonts cannot draw."""
    if not isinstance(value, str):
        raise LabelDataError(name, f"must be text, got {type(value).__name__}")
    if required and not value.strip():
        raise LabelDataError(name, "is required")
    if len(value) > limit:
        raise LabelDataError(name, f"is {len(value)} characters long; at most {limit} fit")
    if _CONTROL.search(value):
        raise LabelDataError(name, "contains control characters (newline, tab, ...)")
    bad = fonts.undrawable(value)
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" for c in bad[:5])
        raise LabelDataError(name, f"has characters no label font can draw: {shown}")


def check_code128(name: str, value: object, limit: int = MAX_CODE128) -> None:
    """Refuse a value that a Code128 barcode cannot carry (printable ASCII, no spaces)."""
    if not isinstance(value, str) or not value:
        raise LabelDataError(name, "is required")
    if len(value) > limit:
        raise LabelDataError(name, f"is {len(value)} characters long; at most {limit} fit")
    if not _CODE128_SAFE.fullmatch(value):
        bad = sorted({c for c in value if not _CODE128_SAFE.fullmatch(c)})
        raise LabelDataError(
            name,
            "has characters Code128 cannot carry (printable ASCII without spaces only): "
            + ", ".join(repr(c) for c in bad[:5]),
        )


def _check_int(name: str, value: object, *, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabelDataError(name, f"must be a whole number, got {value!r}")
    if value < minimum or value > maximum:
        raise LabelDataError(name, f"must be between {minimum} and {maximum}, got {value}")


@dataclass(frozen=True)
class Money:
    """An amount in minor units (paise, cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            raise LabelDataError("amount_minor", f"must be an integer, got {self.amount_minor!r}")
        if not (isinstance(self.currency, str) and re.fullmatch(r"[A-Z]{3}", self.currency)):
            raise LabelDataError("currency", f"must be an ISO 4217 code, got {self.currency!r}")


@dataclass(frozen=True)
class Address:
    """A postal address with the person or site it belongs to."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    region: str = ""
    phone: str = ""

    def check(self, prefix: str) -> None:
        """Raise LabelDataError naming `prefix.field` for the first unusable field."""
        check_text(f"{prefix}.name", self.name, limit=MAX_NAME, required=True)
        check_text(f"{prefix}.line1", self.line1, limit=MAX_LINE, required=True)
        check_text(f"{prefix}.line2", self.line2, limit=MAX_LINE, required=False)
        check_text(f"{prefix}.city", self.city, limit=MAX_CITY, required=True)
        check_text(f"{prefix}.region", self.region, limit=MAX_CITY, required=False)
        check_text(f"{prefix}.postal_code", self.postal_code, limit=MAX_POSTAL, required=True)
        check_text(f"{prefix}.country", self.country, limit=MAX_CITY, required=True)
        check_text(f"{prefix}.phone", self.phone, limit=MAX_PHONE, required=False)

    def locality(self) -> str:
        """City, region and postal code on one line."""
        return ", ".join(p for p in (self.city, self.region) if p) + "  " + self.postal_code


@dataclass(frozen=True)
class OrderLine:
    """One line of an order as the packing slip shows it."""

    sku: str
    quantity: int
    description: str = ""
    unit_price: Money | None = None

    def check(self, prefix: str) -> None:
        """Raise LabelDataError for the first unusable field."""
        check_text(f"{prefix}.sku", self.sku, limit=64, required=True)
        check_text(f"{prefix}.description", self.description, limit=MAX_LINE, required=False)
        _check_int(f"{prefix}.quantity", self.quantity, minimum=1, maximum=1_000_000)


def _check_address(name: str, value: object) -> None:
    if not isinstance(value, Address):
        raise LabelDataError(name, "is required (an Address)")
    value.check(name)


@dataclass(frozen=True)
class LabelData:
    """Everything printed on a shipping label (and its packing slip) for one parcel."""

    tracking_number: str
    order_id: str
    carrier: str
    service: str
    weight_grams: int | None  # None: not weighed yet, and the label prints no weight
    ship_from: Address
    ship_to: Address
    ship_date: dt.date
    sort_code: str = ""
    cod: Money | None = None
    lines: tuple[OrderLine, ...] = ()
    order_total: Money | None = None

    def __post_init__(self) -> None:
        check_code128("tracking_number", self.tracking_number)
        check_code128("order_id", self.order_id, limit=64)
        check_text("carrier", self.carrier, limit=40, required=True)
        check_text("service", self.service, limit=40, required=False)
        if self.weight_grams is not None:
            _check_int("weight_grams", self.weight_grams, minimum=1, maximum=1_000_000)
        _check_address("ship_from", self.ship_from)
        _check_address("ship_to", self.ship_to)
        if not isinstance(self.ship_date, dt.date):
            raise LabelDataError("ship_date", "must be a date")
        if self.sort_code:
            check_code128("sort_code", self.sort_code, limit=12)
        if self.cod is not None:
            if not isinstance(self.cod, Money):
                raise LabelDataError("cod", "must be Money")
            if self.cod.amount_minor <= 0:
                raise LabelDataError("cod", "amount to collect must be positive")
        for i, line in enumerate(self.lines):
            line.check(f"lines[{i}]")

    @property
    def routing_code(self) -> str:
        """The sort code to print: the carrier's if given, else country + postal prefix."""
        if self.sort_code:
            return self.sort_code
        postal = re.sub(r"[^0-9A-Za-z]", "", self.ship_to.postal_code).upper()
        country = re.sub(r"[^A-Za-z]", "", self.ship_to.country).upper()[:2]
        return f"{country}-{postal[:3]}" if country else postal[:3]


@dataclass(frozen=True)
class PickLine:
    """One bin visit on a pick list: take `quantity` of `sku` from `bin`."""

    bin: str
    sku: str
    gtin: str
    quantity: int
    order_id: str = ""
    description: str = ""


@dataclass(frozen=True)
class PickList:
    """The lines of a pick task, printed for a picker walking the bins."""

    pick_list_id: str
    fc_id: str
    created: dt.datetime
    lines: tuple[PickLine, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        from labels.gs1 import is_valid_gtin

        check_code128("pick_list_id", self.pick_list_id)
        check_text("fc_id", self.fc_id, limit=40, required=True)
        if not self.lines:
            raise LabelDataError("lines", "a pick list needs at least one line")
        for i, line in enumerate(self.lines):
            check_text(f"lines[{i}].bin", line.bin, limit=24, required=True)
            check_text(f"lines[{i}].sku", line.sku, limit=64, required=True)
            check_text(f"lines[{i}].description", line.description, limit=MAX_LINE, required=False)
            _check_int(f"lines[{i}].quantity", line.quantity, minimum=1, maximum=1_000_000)
            if not is_valid_gtin(line.gtin):
                raise LabelDataError(f"lines[{i}].gtin", f"{line.gtin!r} is not a valid GTIN")


@dataclass(frozen=True)
class ManifestParcel:
    """A parcel handed to the carrier."""

    tracking_number: str
    order_id: str
    destination: str
    weight_grams: int
    cod: Money | None = None


@dataclass(frozen=True)
class Manifest:
    """The list of parcels a carrier signs for at hand-off."""

    manifest_id: str
    carrier: str
    ship_from: Address
    handed_over: dt.datetime
    parcels: tuple[ManifestParcel, ...]

    def __post_init__(self) -> None:
        check_code128("manifest_id", self.manifest_id)
        check_text("carrier", self.carrier, limit=40, required=True)
        _check_address("ship_from", self.ship_from)
        if not self.parcels:
            raise LabelDataError("parcels", "a manifest needs at least one parcel")
        seen: set[str] = set()
        for i, p in enumerate(self.parcels):
            check_code128(f"parcels[{i}].tracking_number", p.tracking_number)
            if p.tracking_number in seen:
                raise LabelDataError(f"parcels[{i}].tracking_number", "appears twice")
            seen.add(p.tracking_number)
            check_text(f"parcels[{i}].order_id", p.order_id, limit=64, required=True)
            check_text(f"parcels[{i}].destination", p.destination, limit=MAX_LINE, required=True)
            _check_int(f"parcels[{i}].weight_grams", p.weight_grams, minimum=1, maximum=1_000_000)
            if p.cod is not None and p.cod.amount_minor <= 0:
                raise LabelDataError(f"parcels[{i}].cod", "amount to collect must be positive")
