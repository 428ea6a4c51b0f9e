"""Commands of the catalog (products, fulfillment centers, stock received) and their handlers.

These commands live beside their handlers, not in core/domain, because their answers are the
stored rows, which the pure domain may not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.persistence.models import FulfillmentCenter, Product, StockLevel
from core.service import catalog, inventory
from core.service.catalog import FcData, ProductData
from core.service.deps import Deps
from core.service.handlers import Handler


@dataclass(frozen=True, slots=True)
class UpsertProduct(Command[Product]):
    """Create or update a product (its GTIN's check digit is validated)."""

    product: ProductData


@dataclass(frozen=True, slots=True)
class UpsertFc(Command[FulfillmentCenter]):
    """Create or update a fulfillment center."""

    fc: FcData


@dataclass(frozen=True, slots=True)
class ReceiveStock(Command[StockLevel]):
    """Units received at an FC join its on-hand stock (the bin is set when given)."""

    fc_id: str
    sku: str
    quantity: int
    bin: str


def upsert_product(session: Session, cmd: UpsertProduct, deps: Deps) -> Product:
    return catalog.upsert_product(session, cmd.product)


def upsert_fc(session: Session, cmd: UpsertFc, deps: Deps) -> FulfillmentCenter:
    return catalog.upsert_fc(session, cmd.fc)


def receive_stock(session: Session, cmd: ReceiveStock, deps: Deps) -> StockLevel:
    return inventory.receive_stock(session, cmd.fc_id, cmd.sku, cmd.quantity, cmd.bin)


HANDLERS: dict[type[Any], Handler] = {
    UpsertProduct: upsert_product,
    UpsertFc: upsert_fc,
    ReceiveStock: receive_stock,
}
