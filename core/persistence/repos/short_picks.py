"""The statements of a short pick (core/service/short_pick.py): units leave the shelf, are
soft-locked at another FC, or the order is asked to cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from core.persistence.repos.picking import TaskLine
from core.persistence.tables import ORDERS, PICK_LINES, SHIPMENTS, SOFT_LOCKS, STOCK_LEVELS

LINES, LOCKS, STOCK = PICK_LINES, SOFT_LOCKS, STOCK_LEVELS
_AVAILABLE = STOCK.c.on_hand - STOCK.c.soft_locked - STOCK.c.hard_locked


@dataclass(frozen=True, slots=True)
class StockElsewhere:
    """Units of a SKU available at another FC, and the bin they are in."""

    fc_id: str
    available: int
    bin: str


_TAKE_OFF_SHELF = (
    # The line's missing count is compared-and-set: a report racing another changes nothing.
    update(LINES).where(LINES.c.line_id == bindparam("line"),
                        LINES.c.missing == bindparam("was_missing"),
                        LINES.c.picked + bindparam("was_missing") + bindparam("units")
                        <= LINES.c.quantity)
    .values(missing=bindparam("now_missing"), short_reported_by=bindparam("operator")),
    update(STOCK).where(STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku == bindparam("s_sku"),
                        STOCK.c.soft_locked >= bindparam("units"))
    .values(on_hand=STOCK.c.on_hand - bindparam("units"),
            soft_locked=STOCK.c.soft_locked - bindparam("units")),
    update(LOCKS).where(LOCKS.c.order_id == bindparam("order"), LOCKS.c.fc_id == bindparam("fc"),
                        LOCKS.c.sku == bindparam("s_sku"), LOCKS.c.quantity >= bindparam("units"))
    .values(quantity=LOCKS.c.quantity - bindparam("units")),
)
_ELSEWHERE = (
    select(STOCK.c.fc_id, _AVAILABLE.label("available"), STOCK.c.bin)
    .where(STOCK.c.sku == bindparam("s_sku"), STOCK.c.fc_id != bindparam("fc"), _AVAILABLE > 0)
    .order_by(_AVAILABLE.desc(), STOCK.c.fc_id))
# Conditional: another order may have taken the stock since it was read.
_TAKE = update(STOCK).where(
    STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku == bindparam("s_sku"),
    _AVAILABLE >= bindparam("units")).values(soft_locked=STOCK.c.soft_locked + bindparam("units"))
_LOCK_KEY = (LOCKS.c.order_id == bindparam("order"), LOCKS.c.fc_id == bindparam("fc"),
             LOCKS.c.sku == bindparam("s_sku"))
_ADD_TO_LOCK = update(LOCKS).where(*_LOCK_KEY).values(
    quantity=LOCKS.c.quantity + bindparam("units"))
_INSERT_LOCK = insert(LOCKS)
_UNITS_LEFT = (
    select(LINES.c.quantity - LINES.c.missing)
    .join(SHIPMENTS, SHIPMENTS.c.shipment_id == LINES.c.shipment_id)
    .where(LINES.c.order_id == bindparam("order"), SHIPMENTS.c.status != "cancelled"))
_REQUEST_CANCEL = update(ORDERS).where(
    ORDERS.c.order_id == bindparam("order"), ORDERS.c.cancel_requested.is_(None)).values(
    cancel_requested=bindparam("why"), saga_due_at=bindparam("now"), updated_at=bindparam("now"))


def take_off_shelf(conn: Connection, line: TaskLine, units: int, operator: str | None) -> bool:
    """The units are not there: on the line as missing, out of on-hand stock and out of the
    order's soft lock. False when a step found nothing to change (roll back)."""
    values = {"line": line.line_id, "was_missing": line.missing, "units": units,
              "now_missing": line.missing + units, "operator": operator, "fc": line.fc_id,
              "s_sku": line.sku, "order": line.order_id}
    return all(conn.execute(step, values).rowcount == 1 for step in _TAKE_OFF_SHELF)


def stock_elsewhere(conn: Connection, sku: str, not_fc_id: str) -> list[StockElsewhere]:
    """FCs other than not_fc_id with the SKU available, most available first."""
    return [StockElsewhere(*row)
            for row in conn.execute(_ELSEWHERE, {"s_sku": sku, "fc": not_fc_id})]


def soft_lock_stock(conn: Connection, fc_id: str, sku: str, units: int) -> bool:
    """Soft-lock units of the FC's stock while they are available; whether it did."""
    return conn.execute(_TAKE, {"fc": fc_id, "s_sku": sku, "units": units}).rowcount == 1


def add_to_lock(conn: Connection, order_id: str, fc_id: str, sku: str, units: int) -> None:
    """The order's soft lock on the SKU at the FC grows by units (made when it has none)."""
    key = {"order": order_id, "fc": fc_id, "s_sku": sku, "units": units}
    if conn.execute(_ADD_TO_LOCK, key).rowcount == 0:
        conn.execute(_INSERT_LOCK, {"order_id": order_id, "fc_id": fc_id, "sku": sku,
                                    "quantity": units, "hard_quantity": 0})


def units_left(conn: Connection, order_id: str) -> list[int]:
    """Each line of the order's live shipments: its units not reported missing."""
    return [int(n) for n in conn.scalars(_UNITS_LEFT, {"order": order_id})]


def request_cancel(conn: Connection, order_id: str, why: str, now: datetime) -> None:
    """Ask the saga to cancel the order (unless a cancellation is already asked for)."""
    conn.execute(_REQUEST_CANCEL, {"order": order_id, "why": why, "now": now})
