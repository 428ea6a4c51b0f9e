"""What the packer and the printed documents read of shipments and their pick lines
(core/service/pack_list.py, documents.py): read-only records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.engine import Connection

from core.persistence.tables import ORDERS, PICK_LINES, PICK_TASKS, PRODUCTS, SHIPMENTS

LINES = PICK_LINES


@dataclass(frozen=True, slots=True)
class ShipmentHead:
    shipment_id: str
    order_id: str
    fc_id: str
    status: str


@dataclass(frozen=True, slots=True)
class DocumentShipment:
    """A shipment as its documents print it."""

    shipment_id: str
    fc_id: str
    status: str
    created_at: datetime
    packed_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    weight_grams: int | None


@dataclass(frozen=True, slots=True)
class OrderTotal:
    currency: str
    total_minor: int


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    """A pick line of a shipment, with its product's name (None: gone from the catalog)."""

    line_id: str
    shipment_id: str
    order_id: str
    sku: str
    gtin: str
    bin: str
    quantity: int
    picked: int
    missing: int
    unit_price_minor: int
    weight_grams: int
    name: str | None


_HEAD = (SHIPMENTS.c.shipment_id, SHIPMENTS.c.order_id, SHIPMENTS.c.fc_id, SHIPMENTS.c.status)
_OLDEST_FIRST = (SHIPMENTS.c.created_at, SHIPMENTS.c.shipment_id)
_LINES_OF = (
    select(LINES.c.line_id, LINES.c.shipment_id, LINES.c.order_id, LINES.c.sku, LINES.c.gtin,
           LINES.c.bin, LINES.c.quantity, LINES.c.picked, LINES.c.missing,
           LINES.c.unit_price_minor, LINES.c.weight_grams, PRODUCTS.c.name)
    .outerjoin(PRODUCTS, PRODUCTS.c.sku == LINES.c.sku)
)


def task_exists(conn: Connection, task_id: str) -> bool:
    return conn.scalar(select(PICK_TASKS.c.task_id).where(PICK_TASKS.c.task_id == task_id)
                       ) is not None


def order_exists(conn: Connection, order_id: str) -> bool:
    return conn.scalar(select(ORDERS.c.order_id).where(ORDERS.c.order_id == order_id)
                       ) is not None


def _heads(conn: Connection, where: ColumnElement[bool]) -> list[ShipmentHead]:
    return [ShipmentHead(*row) for row in conn.execute(
        select(*_HEAD).where(where).order_by(*_OLDEST_FIRST))]


def shipments_of_task(conn: Connection, task_id: str) -> list[ShipmentHead]:
    """The shipments a pick task (a tote) has lines of, oldest first."""
    return _heads(conn, SHIPMENTS.c.shipment_id.in_(
        select(LINES.c.shipment_id).where(LINES.c.task_id == task_id).scalar_subquery()))


def shipments_of_order(conn: Connection, order_id: str) -> list[ShipmentHead]:
    return _heads(conn, SHIPMENTS.c.order_id == order_id)


def shipment(conn: Connection, shipment_id: str) -> list[ShipmentHead]:
    """The shipment, as a list of one (empty when there is none)."""
    return _heads(conn, SHIPMENTS.c.shipment_id == shipment_id)


def picked_lines(conn: Connection, shipment_ids: Sequence[str]) -> list[ShipmentLine]:
    """The lines of these shipments with a unit picked (in no order)."""
    return _lines(_LINES_OF.where(LINES.c.shipment_id.in_(list(shipment_ids)),
                                  LINES.c.picked > 0), conn)


def lines_by_sku(conn: Connection, shipment_id: str) -> list[ShipmentLine]:
    """Every line of the shipment, by SKU."""
    return _lines(_LINES_OF.where(LINES.c.shipment_id == shipment_id)
                  .order_by(LINES.c.sku, LINES.c.line_id), conn)


def _lines(stmt: Select[Any], conn: Connection) -> list[ShipmentLine]:
    return [ShipmentLine(*row) for row in conn.execute(stmt)]


def order_total(conn: Connection, order_id: str) -> OrderTotal | None:
    row = conn.execute(select(ORDERS.c.currency, ORDERS.c.total_minor)
                       .where(ORDERS.c.order_id == order_id)).first()
    return None if row is None else OrderTotal(*row)


def first_shipment(conn: Connection, order_id: str, shipment_id: str = ""
                   ) -> DocumentShipment | None:
    """The order's shipment_id (its first when empty); None when it has no such shipment."""
    stmt = select(SHIPMENTS.c.shipment_id, SHIPMENTS.c.fc_id, SHIPMENTS.c.status,
                  SHIPMENTS.c.created_at, SHIPMENTS.c.packed_at, SHIPMENTS.c.carrier,
                  SHIPMENTS.c.tracking_number, SHIPMENTS.c.weight_grams,
                  ).where(SHIPMENTS.c.order_id == order_id)
    if shipment_id:
        stmt = stmt.where(SHIPMENTS.c.shipment_id == shipment_id)
    row = conn.execute(stmt.order_by(*_OLDEST_FIRST).limit(1)).first()
    return None if row is None else DocumentShipment(*row)
