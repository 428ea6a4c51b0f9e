"""Pick tasks, their lines and their scans: the statements of NextPickTask, ScanItem and
ReportShortPick (core/service/picking.py, short_pick.py), and the tote numbers of tasks.

ScanItem is a hot path: its statements are built once here, and each record is made straight
from its row (the statement selects the record's fields in order).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from core.domain.order import OrderStatus, may_become
from core.persistence.fulfillment_models import TOTE_NUMBERS
from core.persistence.tables import (
    FULFILLMENT_CENTERS,
    ORDERS,
    PICK_LINES,
    PICK_TASKS,
    PRODUCTS,
    SCANS,
    SHIPMENTS,
    SOFT_LOCKS,
    STOCK_LEVELS,
)

LINES, TASKS, LOCKS, STOCK = PICK_LINES, PICK_TASKS, SOFT_LOCKS, STOCK_LEVELS
OPEN, DONE, ABANDONED = "open", "done", "abandoned"
# Orders whose lines may still be picked.
LIVE_ORDER = (OrderStatus.PROCESSING, OrderStatus.PICKING)


@dataclass(frozen=True, slots=True)
class PickTaskRecord:
    task_id: str
    fc_id: str
    picker: str
    status: str  # OPEN, DONE or ABANDONED
    created_at: datetime
    touched_at: datetime
    tote_no: int | None


@dataclass(frozen=True, slots=True)
class QueuedLine:
    """A pick line waiting for a picker."""

    line_id: str
    order_id: str
    shipment_id: str


# A scan builds one of these per open line of its task: not frozen, because a frozen
# dataclass sets each field through object.__setattr__ (ten times the cost, about a tenth of
# a scan's CPU). Read-only all the same: nothing changes a line record.
@dataclass(slots=True)
class TaskLine:
    """A pick line of a task, with what decides whether it may still be picked."""

    line_id: str
    shipment_id: str
    order_id: str
    fc_id: str
    sku: str
    gtin: str
    bin: str
    quantity: int
    picked: int
    missing: int
    task_id: str | None
    unit_price_minor: int
    weight_grams: int
    short_reported_by: str | None
    shipment_status: str
    order_status: str
    cancel_requested: str | None
    name: str | None  # the product's name (None: no longer in the catalog)


@dataclass(slots=True)
class ScanLine(TaskLine):
    """An open line as a scan reads it: with what the Item_Picked event needs of its order."""

    order_fc_id: str | None
    storefront: str


@dataclass(frozen=True, slots=True)
class OrderRef:
    """What an order's event and a short pick need of the order."""

    order_id: str
    status: str
    fc_id: str | None
    storefront: str
    cancel_requested: str | None


@dataclass(slots=True)
class LineCount:  # (one per line of a shipment, at each scan that may close it: not frozen)
    picked: int
    missing: int
    quantity: int


@dataclass(frozen=True, slots=True)
class PriorScan:
    task_id: str
    barcode: str
    reply: dict[str, Any]  # the reply it got, as stored (JSON)


def _columns(record: type, named: dict[str, ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    """The columns of a record's fields, in its order (so `record(*row)` builds it)."""
    return [named[f.name] for f in fields(record)]


_LINE_COLUMNS: dict[str, ColumnElement[Any]] = {
    **{c.key: c for c in LINES.c},
    "shipment_status": SHIPMENTS.c.status.label("shipment_status"),
    "order_status": ORDERS.c.status.label("order_status"),
    "cancel_requested": ORDERS.c.cancel_requested,
    "name": PRODUCTS.c.name,
    "order_fc_id": ORDERS.c.fc_id.label("order_fc_id"),
    "storefront": ORDERS.c.storefront,
}


def _lines_of_task(record: type) -> Select[Any]:
    # The product is joined by primary key, so a scan's reply names the item without a query
    # of its own.
    return (select(*_columns(record, _LINE_COLUMNS))
            .join(SHIPMENTS, SHIPMENTS.c.shipment_id == LINES.c.shipment_id)
            .join(ORDERS, ORDERS.c.order_id == LINES.c.order_id)
            .outerjoin(PRODUCTS, PRODUCTS.c.sku == LINES.c.sku)
            .where(LINES.c.task_id == bindparam("t")))


_UNFINISHED = LINES.c.picked + LINES.c.missing < LINES.c.quantity
# Queued lines of one FC whose order still wants them, oldest orders first. FOR UPDATE OF the
# lines only (PostgreSQL): other claimers skip them; orders and shipments stay unlocked.
_QUEUED = (
    select(*_columns(QueuedLine, dict(LINES.c)))
    .join(SHIPMENTS, SHIPMENTS.c.shipment_id == LINES.c.shipment_id)
    .join(ORDERS, ORDERS.c.order_id == LINES.c.order_id)
    .where(LINES.c.fc_id == bindparam("fc"), LINES.c.task_id.is_(None), _UNFINISHED,
           SHIPMENTS.c.status.in_(["pending", "picking"]),
           ORDERS.c.status.in_(list(LIVE_ORDER)), ORDERS.c.cancel_requested.is_(None))
    .order_by(ORDERS.c.created_at, LINES.c.order_id, LINES.c.line_id)
    .limit(bindparam("n"))
    .with_for_update(skip_locked=True, of=LINES)
)
_TASK_LINES = _lines_of_task(TaskLine)
_TASK_LINE = _TASK_LINES.where(LINES.c.line_id == bindparam("l"))
# Only the lines still open, which are all a scan looks at (with their orders' event fields:
# one statement fewer than reading the order row afterwards).
_SCAN_LINES = _lines_of_task(ScanLine).where(_UNFINISHED)
_LOCK_TASK = (select(*_columns(PickTaskRecord, dict(TASKS.c)))
              .where(TASKS.c.task_id == bindparam("t")).with_for_update())
_TASK_FC = select(TASKS.c.fc_id).where(TASKS.c.task_id == bindparam("t"))
_TASK_OF_TOTE = select(TASKS.c.task_id).where(TASKS.c.tote_no == bindparam("n"))
_LAST_TOTE = select(func.max(TASKS.c.tote_no))
_STALE = select(TASKS.c.task_id).where(
    TASKS.c.fc_id == bindparam("fc"), TASKS.c.status == OPEN,
    TASKS.c.touched_at < bindparam("cutoff"))
# Compare-and-set: a scan that touched the task meanwhile keeps it open.
_ABANDON = update(TASKS).where(
    TASKS.c.task_id == bindparam("t"), TASKS.c.status == OPEN,
    TASKS.c.touched_at < bindparam("cutoff")).values(status=ABANDONED)
_REQUEUE = update(LINES).where(LINES.c.task_id == bindparam("t"), _UNFINISHED).values(
    task_id=None)
_INSERT_TASK = insert(TASKS)
_CONFIRM_BIN = select(FULFILLMENT_CENTERS.c.confirm_bin_scan).where(
    FULFILLMENT_CENTERS.c.fc_id == bindparam("fc"))
# Each scan's statements, built once (building them per call cost more than running them).
_PRIOR_SCAN = select(*_columns(PriorScan, dict(SCANS.c))).where(
    SCANS.c.scan_id == bindparam("sid"))
_INSERT_SCAN = insert(SCANS)
_PICK_ONE = (
    update(LINES).where(LINES.c.line_id == bindparam("p_line"), _UNFINISHED)
    .values(picked=LINES.c.picked + 1),
    update(LOCKS).where(LOCKS.c.order_id == bindparam("p_order"),
                        LOCKS.c.fc_id == bindparam("p_fc"), LOCKS.c.sku == bindparam("p_sku"),
                        LOCKS.c.quantity >= 1)
    .values(quantity=LOCKS.c.quantity - 1, hard_quantity=LOCKS.c.hard_quantity + 1),
    update(STOCK).where(STOCK.c.fc_id == bindparam("p_fc"), STOCK.c.sku == bindparam("p_sku"),
                        STOCK.c.soft_locked >= 1)
    .values(soft_locked=STOCK.c.soft_locked - 1, hard_locked=STOCK.c.hard_locked + 1),
)
_TOUCH = update(TASKS).where(TASKS.c.task_id == bindparam("t_id")).values(
    touched_at=bindparam("t_now"))
_TOUCH_DONE = _TOUCH.values(status=DONE)
_SHIPMENT_LINES = select(*_columns(LineCount, dict(LINES.c))).where(
    LINES.c.shipment_id == bindparam("sh"))
_CLOSE_SHIPMENT = update(SHIPMENTS).where(
    SHIPMENTS.c.shipment_id == bindparam("sh"),
    SHIPMENTS.c.status.in_(["pending", "picking"])).values(
    status=bindparam("st"), updated_at=bindparam("now"))
_ORDER_REF = select(*_columns(OrderRef, dict(ORDERS.c))).where(
    ORDERS.c.order_id == bindparam("o"))


# --- claiming a task --------------------------------------------------------------------------

def stale_task_ids(conn: Connection, fc_id: str, cutoff: datetime) -> list[str]:
    """Open tasks of the FC untouched since cutoff."""
    return list(conn.scalars(_STALE, {"fc": fc_id, "cutoff": cutoff}))


def abandon(conn: Connection, task_id: str, cutoff: datetime) -> bool:
    """Mark the task abandoned unless it was touched since cutoff; whether it was."""
    return conn.execute(_ABANDON, {"t": task_id, "cutoff": cutoff}).rowcount == 1


def requeue_unfinished(conn: Connection, task_id: str) -> int:
    """The task's unfinished lines go back to the queue; how many."""
    return conn.execute(_REQUEUE, {"t": task_id}).rowcount


def queued_lines(conn: Connection, fc_id: str, limit: int) -> list[QueuedLine]:
    """Up to limit queued lines of the FC, oldest orders first, locked for claiming."""
    return [QueuedLine(*row) for row in conn.execute(_QUEUED, {"fc": fc_id, "n": limit})]


def insert_task(conn: Connection, task: PickTaskRecord) -> None:
    conn.execute(_INSERT_TASK, {f.name: getattr(task, f.name) for f in fields(task)})


def claim(conn: Connection, line_ids: list[str], task_id: str) -> int:
    """Give the lines (those still unclaimed) to the task; how many it got."""
    return conn.execute(update(LINES).where(LINES.c.line_id.in_(line_ids),
                                            LINES.c.task_id.is_(None))
                        .values(task_id=task_id)).rowcount


def orders_to_picking(conn: Connection, order_ids: Collection[str], now: datetime) -> None:
    """The orders become PICKING where the state machine lets them (compare-and-set on the
    status: an order cancelled meanwhile stays cancelled)."""
    conn.execute(update(ORDERS).where(ORDERS.c.order_id.in_(list(order_ids)),
                                      ORDERS.c.status.in_(_MAY_BECOME_PICKING))
                 .values(status=OrderStatus.PICKING, updated_at=now))


_MAY_BECOME_PICKING = sorted(may_become(OrderStatus.PICKING))


def shipments_to_picking(conn: Connection, shipment_ids: Collection[str], now: datetime) -> None:
    conn.execute(update(SHIPMENTS).where(SHIPMENTS.c.shipment_id.in_(list(shipment_ids)),
                                         SHIPMENTS.c.status == "pending")
                 .values(status="picking", updated_at=now))


def confirms_bin_scan(conn: Connection, fc_id: str) -> bool:
    """Whether the FC's pickers scan each bin before its items."""
    return bool(conn.scalar(_CONFIRM_BIN, {"fc": fc_id}))


# --- tasks and their lines ----------------------------------------------------------------------

def task_fc(conn: Connection, task_id: str) -> str | None:
    fc_id = conn.scalar(_TASK_FC, {"t": task_id})
    return None if fc_id is None else str(fc_id)


def lock_task(conn: Connection, task_id: str) -> PickTaskRecord | None:
    """The task under lock (FOR UPDATE on PostgreSQL: its scans go one at a time)."""
    row = conn.execute(_LOCK_TASK, {"t": task_id}).one_or_none()
    return None if row is None else PickTaskRecord(*row)


def task_lines(conn: Connection, task_id: str) -> list[TaskLine]:
    return [TaskLine(*row) for row in conn.execute(_TASK_LINES, {"t": task_id})]


def task_line(conn: Connection, task_id: str, line_id: str) -> TaskLine | None:
    row = conn.execute(_TASK_LINE, {"t": task_id, "l": line_id}).one_or_none()
    return None if row is None else TaskLine(*row)


def open_scan_lines(conn: Connection, task_id: str) -> list[ScanLine]:
    """The task's lines not yet picked or reported short."""
    return [ScanLine(*row) for row in conn.execute(_SCAN_LINES, {"t": task_id})]


def mark_touched(conn: Connection, task_id: str, now: datetime, done: bool) -> None:
    conn.execute(_TOUCH_DONE if done else _TOUCH, {"t_id": task_id, "t_now": now})


def shipment_line_counts(conn: Connection, shipment_id: str) -> list[LineCount]:
    return [LineCount(*row) for row in conn.execute(_SHIPMENT_LINES, {"sh": shipment_id})]


def close_shipment(conn: Connection, shipment_id: str, status: str, now: datetime) -> None:
    """A shipment still pending or picking gets its final picking status."""
    conn.execute(_CLOSE_SHIPMENT, {"sh": shipment_id, "st": status, "now": now})


def order_ref(conn: Connection, order_id: str) -> OrderRef:
    return OrderRef(*conn.execute(_ORDER_REF, {"o": order_id}).one())


# --- scans --------------------------------------------------------------------------------------

def prior_scan(conn: Connection, scan_id: str) -> PriorScan | None:
    row = conn.execute(_PRIOR_SCAN, {"sid": scan_id}).one_or_none()
    return None if row is None else PriorScan(*row)


def hard_lock_one(conn: Connection, line: TaskLine) -> bool:
    """One unit: picked on the line, soft → hard on the order's lock and on the FC's stock.

    False when a step found nothing to change (the caller rolls the transaction back).
    """
    key = {"p_line": line.line_id, "p_order": line.order_id, "p_fc": line.fc_id,
           "p_sku": line.sku}
    return all(conn.execute(step, key).rowcount == 1 for step in _PICK_ONE)


def insert_scan(conn: Connection, scan_id: str, task_id: str, line_id: str, barcode: str,
                operator: str | None, reply: dict[str, Any], now: datetime) -> None:
    """Store a scan with its reply (a repeated scan_id fails here: IntegrityError)."""
    conn.execute(_INSERT_SCAN, {"scan_id": scan_id, "task_id": task_id, "line_id": line_id,
                                "barcode": barcode, "operator": operator, "reply": reply,
                                "scanned_at": now})


# --- totes --------------------------------------------------------------------------------------

def draw_tote_number(conn: Connection) -> int:
    """A tote number no other task has or will get.

    PostgreSQL: the sequence (two replicas creating tasks at once draw different numbers
    without waiting on each other). SQLite: one writer commits at a time, so the largest
    number so far plus one is free. The unique index on tote_no backs both.
    """
    if conn.dialect.name == "postgresql":
        return int(conn.scalar(TOTE_NUMBERS.next_value()))
    return int(conn.scalar(_LAST_TOTE) or 0) + 1


def task_of_tote(conn: Connection, number: int) -> str | None:
    task_id = conn.scalar(_TASK_OF_TOTE, {"n": number})
    return None if task_id is None else str(task_id)

