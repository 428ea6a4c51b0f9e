"""What `tote check` reads (core/service/check.py): the whole database, summed in SQL where
it can be, as read-only records."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.persistence.tables import ORDERS, PICK_LINES, SHIPMENTS, SOFT_LOCKS, STOCK_LEVELS

LINES, LOCKS, STOCK = PICK_LINES, SOFT_LOCKS, STOCK_LEVELS
FcSku = tuple[str, str]


@dataclass(frozen=True, slots=True)
class StockRecord:
    fc_id: str
    sku: str
    on_hand: int
    soft_locked: int
    hard_locked: int
    received_total: int


@dataclass(frozen=True, slots=True)
class ShipmentState:
    order_id: str
    shipment_id: str
    status: str
    value_minor: int


@dataclass(frozen=True, slots=True)
class OrderMoney:
    """An order's status and payment, as the invariants about money read them."""

    order_id: str
    status: str
    payment_method: str
    payment_state: str
    currency: str
    authorized_minor: int
    captured_minor: int
    refunded_minor: int
    shipping_fee_minor: int


@dataclass(frozen=True, slots=True)
class HeldLock:
    """A soft/hard lock row with its order's status (None: the order does not exist)."""

    order_id: str
    fc_id: str
    sku: str
    quantity: int
    hard_quantity: int
    order_status: str | None


def units_handed_off(session: Session, statuses: tuple[str, ...]) -> dict[FcSku, int]:
    """Units picked on shipments in these statuses, by (FC, SKU)."""
    out: dict[FcSku, int] = {}
    for fc_id, sku, units in session.execute(
            select(LINES.c.fc_id, LINES.c.sku, func.sum(LINES.c.picked))
            .join(SHIPMENTS, SHIPMENTS.c.shipment_id == LINES.c.shipment_id)
            .where(SHIPMENTS.c.status.in_(statuses))
            .group_by(LINES.c.fc_id, LINES.c.sku)):
        out[(fc_id, sku)] = out.get((fc_id, sku), 0) + int(units or 0)
    return out


def units_reported_short(session: Session) -> dict[FcSku, int]:
    """Units pickers reported missing, by (FC, SKU)."""
    return {(fc_id, sku): int(units or 0) for fc_id, sku, units in session.execute(
        select(LINES.c.fc_id, LINES.c.sku, func.sum(LINES.c.missing))
        .group_by(LINES.c.fc_id, LINES.c.sku))}


def locks_held(session: Session) -> dict[FcSku, tuple[int, int]]:
    """(soft, hard) units the orders' locks hold, by (FC, SKU)."""
    return {(fc_id, sku): (int(soft or 0), int(hard or 0))
            for fc_id, sku, soft, hard in session.execute(
                select(LOCKS.c.fc_id, LOCKS.c.sku, func.sum(LOCKS.c.quantity),
                       func.sum(LOCKS.c.hard_quantity))
                .group_by(LOCKS.c.fc_id, LOCKS.c.sku))}


def stock_levels(session: Session) -> list[StockRecord]:
    """Every stock level, by FC and SKU."""
    return [StockRecord(*row) for row in session.execute(
        select(STOCK.c.fc_id, STOCK.c.sku, STOCK.c.on_hand, STOCK.c.soft_locked,
               STOCK.c.hard_locked, STOCK.c.received_total)
        .order_by(STOCK.c.fc_id, STOCK.c.sku))]


def shipment_states(session: Session) -> list[ShipmentState]:
    return [ShipmentState(*row) for row in session.execute(
        select(SHIPMENTS.c.order_id, SHIPMENTS.c.shipment_id, SHIPMENTS.c.status,
               SHIPMENTS.c.value_minor))]


def orders_money(session: Session) -> list[OrderMoney]:
    """Every order, by id."""
    return [OrderMoney(*row) for row in session.execute(
        select(ORDERS.c.order_id, ORDERS.c.status, ORDERS.c.payment_method,
               ORDERS.c.payment_state, ORDERS.c.currency, ORDERS.c.authorized_minor,
               ORDERS.c.captured_minor, ORDERS.c.refunded_minor, ORDERS.c.shipping_fee_minor)
        .order_by(ORDERS.c.order_id))]


def held_locks(session: Session) -> list[HeldLock]:
    """Every lock row with its order's status, by order, FC and SKU."""
    return [HeldLock(*row) for row in session.execute(
        select(LOCKS.c.order_id, LOCKS.c.fc_id, LOCKS.c.sku, LOCKS.c.quantity,
               LOCKS.c.hard_quantity, ORDERS.c.status)
        .outerjoin(ORDERS, ORDERS.c.order_id == LOCKS.c.order_id)
        .order_by(LOCKS.c.order_id, LOCKS.c.fc_id, LOCKS.c.sku))]
