"""Products and fulfillment centers (core/service/catalog.py): ORM models, typed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.persistence.models import FulfillmentCenter, Product


def product(session: Session, sku: str) -> Product | None:
    return session.get(Product, sku)


def add_product(session: Session, sku: str) -> Product:
    """A new product, to be filled in and saved with the transaction."""
    made = Product(sku=sku)
    session.add(made)
    return made


def products_after(session: Session, after_sku: str, limit: int) -> list[Product]:
    """Products ordered by SKU, after the given one (keyset paging)."""
    return list(session.scalars(select(Product).where(Product.sku > after_sku)
                                .order_by(Product.sku).limit(limit)))


def fc(session: Session, fc_id: str) -> FulfillmentCenter | None:
    return session.get(FulfillmentCenter, fc_id)


def add_fc(session: Session, fc_id: str) -> FulfillmentCenter:
    """A new fulfillment center, to be filled in and saved with the transaction."""
    made = FulfillmentCenter(fc_id=fc_id)
    session.add(made)
    return made


def fcs(session: Session) -> list[FulfillmentCenter]:
    """Every fulfillment center, by id."""
    return list(session.scalars(select(FulfillmentCenter).order_by(FulfillmentCenter.fc_id)))
