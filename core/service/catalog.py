"""Catalog and fulfillment centers: what is sold, and where it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.domain.gtin import check_gtin
from core.domain.money import check_currency
from core.persistence.models import FulfillmentCenter, Product, utcnow
from core.persistence.repos import catalog as repo


@dataclass(frozen=True, slots=True)
class ProductData:
    sku: str
    name: str
    gtin: str
    unit_price_minor: int
    currency: str
    weight_grams: int


def _check_id(value: str, field: str) -> None:
    if not value or len(value) > 64 or not value.replace("-", "").replace("_", "").isalnum():
        raise InvalidArgument(
            f"{field} must be 1-64 letters, digits, '-' or '_', got {value[:40]!r}", field=field
        )


def upsert_product(session: Session, data: ProductData) -> Product:
    """Create or update a product; the GTIN's check digit is validated."""
    _check_id(data.sku, "product.sku")
    if not data.name.strip() or len(data.name) > 256:
        raise InvalidArgument("product.name is required (at most 256 characters)",
                              field="product.name")
    check_gtin(data.gtin, field="product.gtin")
    check_currency(data.currency, field="product.unit_price.currency")
    if data.unit_price_minor <= 0:
        # Zero is what an unset price reads as on the wire: a product is never sold for it.
        raise InvalidArgument(
            f"product.unit_price.amount_minor must be positive (minor units), got "
            f"{data.unit_price_minor}", field="product.unit_price.amount_minor")
    if data.weight_grams <= 0:
        raise InvalidArgument("product.weight_grams must be positive (grams)",
                              field="product.weight_grams")
    product = repo.product(session, data.sku) or repo.add_product(session, data.sku)
    product.name = data.name
    product.gtin = data.gtin
    product.unit_price_minor = data.unit_price_minor
    product.currency = data.currency
    product.weight_grams = data.weight_grams
    product.updated_at = utcnow()
    return product


def get_product(session: Session, sku: str) -> Product:
    product = repo.product(session, sku)
    if product is None:
        raise NotFound(f"no product with SKU {sku[:64]!r}")
    return product


def list_products(session: Session, page_size: int, after_sku: str) -> list[Product]:
    """Products ordered by SKU, after the given one (keyset paging)."""
    return repo.products_after(session, after_sku, page_size)


@dataclass(frozen=True, slots=True)
class FcData:
    fc_id: str
    name: str
    latitude: float
    longitude: float
    cutoff_hour: int
    daily_capacity: int
    # The return address; None (or no text in it): keep the one stored, if any.
    address: dict[str, Any] | None
    confirm_bin_scan: bool = False


# What a return address needs for a carrier to bring a parcel back.
RETURN_ADDRESS_REQUIRED = ("name", "line1", "city", "postal_code", "country")
_ADDRESS_OPTIONAL = ("line2", "region", "phone")


def has_address_text(address: dict[str, Any] | None) -> bool:
    """True when an address says anything but coordinates."""
    return bool(address) and any(
        str(v).strip() for k, v in (address or {}).items()
        if k not in ("latitude", "longitude") and v is not None)


def _check_fc_address(a: dict[str, Any]) -> None:
    for name in RETURN_ADDRESS_REQUIRED:
        if not str(a.get(name) or "").strip():
            raise InvalidArgument(
                f"fc.address.{name} is required: a return address needs name, line1, city, "
                "postal_code and country", field=f"fc.address.{name}")
    for name in (*RETURN_ADDRESS_REQUIRED, *_ADDRESS_OPTIONAL):
        if len(str(a.get(name) or "")) > 256:
            raise InvalidArgument(f"fc.address.{name} is longer than 256 characters",
                                  field=f"fc.address.{name}")
    lat, lon = float(a.get("latitude") or 0.0), float(a.get("longitude") or 0.0)
    # NaN passes no comparison, so it is refused here too (PostgreSQL's JSON would refuse it).
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidArgument("fc.address latitude/longitude are out of range",
                              field="fc.address.latitude")


def return_address(fc_id: str, address: dict[str, Any] | None) -> dict[str, Any]:
    """The FC's return address for a label; FAILED_PRECONDITION when it has none."""
    if address is None or any(not str(address.get(k) or "").strip()
                              for k in RETURN_ADDRESS_REQUIRED):
        raise FailedPrecondition(
            f"fulfillment center {fc_id} has no return address: set it with "
            "UpsertFulfillmentCenter(fc.address) before printing labels there")
    return address


def upsert_fc(session: Session, data: FcData) -> FulfillmentCenter:
    """Create or update a fulfillment center."""
    _check_id(data.fc_id, "fc.fc_id")
    for name, value in (data.address or {}).items():
        if isinstance(value, str) and len(value) > 256:  # (as ship_to's fields)
            raise InvalidArgument(f"fc.address.{name} is {len(value)} characters long; at most "
                                  "256 are accepted", field=f"fc.address.{name}")
    if not data.name.strip() or len(data.name) > 256:
        raise InvalidArgument("fc.name is required (at most 256 characters)", field="fc.name")
    if not -180 <= data.longitude <= 180:
        raise InvalidArgument(f"fc.longitude must be -180 to 180 degrees, got {data.longitude}",
                              field="fc.longitude")
    if not (-90 <= data.latitude <= 90 and -180 <= data.longitude <= 180):
        raise InvalidArgument("fc.latitude/longitude are out of range", field="fc.latitude")
    if not 0 <= data.cutoff_hour <= 23:
        raise InvalidArgument("fc.cutoff_hour must be an hour 0-23", field="fc.cutoff_hour")
    if data.daily_capacity < 0:
        raise InvalidArgument("fc.daily_capacity must not be negative",
                              field="fc.daily_capacity")
    address = data.address if has_address_text(data.address) else None
    if address is not None:
        _check_fc_address(address)
    fc = repo.fc(session, data.fc_id) or repo.add_fc(session, data.fc_id)
    fc.name = data.name
    fc.latitude = data.latitude
    fc.longitude = data.longitude
    fc.cutoff_hour = data.cutoff_hour
    fc.daily_capacity = data.daily_capacity
    if address is not None:
        fc.address = dict(address)
    fc.confirm_bin_scan = data.confirm_bin_scan
    return fc


def list_fcs(session: Session) -> list[FulfillmentCenter]:
    return repo.fcs(session)
