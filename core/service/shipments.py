"""Shipments: when an order is ready, what each fulfillment center picks, packs and ships.

One shipment per FC that holds soft locks for the order (an order split across FCs ships in
several parcels), each with its pick lines — queued for the FC's pickers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.words import count
from core.persistence.direct import HotStatement
from core.persistence.fulfillment_models import PickLine, Shipment
from core.persistence.models import OrderLine, Product, SoftLock, StockLevel
from core.service import events

SHIPMENTS = Shipment.__table__
PICK_LINES = PickLine.__table__
_LOCKS = SoftLock.__table__
_LINES = OrderLine.__table__
_STOCK = StockLevel.__table__
_PRODUCTS = Product.__table__

# Compiled once and run on the DBAPI connection (direct.py): every ready order runs them.
_ORDER_LOCKS = HotStatement(
    select(_LOCKS.c.fc_id, _LOCKS.c.sku, _LOCKS.c.quantity, _STOCK.c.bin, _PRODUCTS.c.gtin)
    .join(_STOCK, (_STOCK.c.fc_id == _LOCKS.c.fc_id) & (_STOCK.c.sku == _LOCKS.c.sku))
    .join(_PRODUCTS, _PRODUCTS.c.sku == _LOCKS.c.sku)
    .where(_LOCKS.c.order_id == bindparam("order_id"))
    .order_by(_LOCKS.c.fc_id, _LOCKS.c.sku)
)
_ORDER_PRICES = HotStatement(select(_LINES.c.sku, _LINES.c.unit_price_minor,
                                    _LINES.c.weight_grams)
                             .where(_LINES.c.order_id == bindparam("order_id")))
_INSERT_SHIPMENTS = HotStatement(insert(SHIPMENTS))
_INSERT_PICK_LINES = HotStatement(insert(PICK_LINES))


def create_for_order(conn: Connection, order: Any, now: datetime) -> list[str]:
    """Create the order's shipments and queue their pick lines; Order_Assigned. Returns FC ids."""
    fcs, n_lines = _queue(conn, order, now)
    where = fcs[0] if len(fcs) == 1 else f"{len(fcs)} shipments from {', '.join(fcs)}"
    events.record(conn, order, EventType.ORDER_ASSIGNED, now,
                  f"assigned to {where}; {count(n_lines, 'pick line')} queued")
    return fcs


def _queue(conn: Connection, order: Any, now: datetime) -> tuple[list[str], int]:
    """Shipments and queued pick lines for where the order's soft locks are now."""
    prices = {row.sku: row for row in _ORDER_PRICES.execute(conn, {"order_id": order.order_id})}
    by_fc: dict[str, list[Any]] = defaultdict(list)
    for lock in _ORDER_LOCKS.execute(conn, {"order_id": order.order_id}):
        if lock.quantity > 0:
            by_fc[lock.fc_id].append(lock)
    shipments, lines = [], []
    for fc_id, locks in by_fc.items():
        shipment_id = new_id("shp")
        shipments.append({"shipment_id": shipment_id, "order_id": order.order_id,
                          "fc_id": fc_id, "status": "pending", "value_minor": 0,
                          "cod_due_minor": 0, "created_at": now, "updated_at": now})
        for lock in locks:
            price = prices[lock.sku]
            lines.append({"line_id": new_id("pl"), "shipment_id": shipment_id,
                          "order_id": order.order_id, "fc_id": fc_id, "sku": lock.sku,
                          "gtin": lock.gtin, "bin": lock.bin or "", "quantity": lock.quantity,
                          "picked": 0, "missing": 0, "task_id": None,
                          "unit_price_minor": price.unit_price_minor,
                          "weight_grams": price.weight_grams})
    if shipments:
        _INSERT_SHIPMENTS.executemany(conn, shipments)
        _INSERT_PICK_LINES.executemany(conn, lines)
    fcs = sorted(by_fc, key=lambda fc: (-sum(lk.quantity for lk in by_fc[fc]), fc))
    return fcs, len(lines)


_DROP_PENDING_SHIPMENTS = SHIPMENTS.delete().where(
    SHIPMENTS.c.order_id == bindparam("o"), SHIPMENTS.c.status == "pending")


def requeue_for_order(conn: Connection, order: Any, now: datetime, detail: str) -> list[str]:
    """The order's locks moved before picking began: its pending shipments and queued lines are
    replaced by new ones where the locks are now; Order_Assigned with `detail`. Returns FC ids.
    """
    conn.execute(_DROP_QUEUED_LINES, {"o": order.order_id})
    conn.execute(_DROP_PENDING_SHIPMENTS, {"o": order.order_id})
    fcs, n_lines = _queue(conn, order, now)
    events.record(conn, order, EventType.ORDER_ASSIGNED, now,
                  f"{detail}; {count(n_lines, 'pick line')} queued")
    return fcs


_CANCEL_SHIPMENTS = (
    SHIPMENTS.update()
    .where(SHIPMENTS.c.order_id == bindparam("o"),
           SHIPMENTS.c.status.in_(["pending", "picking", "picked", "packing"]))
    .values(status="cancelled", updated_at=bindparam("now"))
)
_DROP_QUEUED_LINES = PICK_LINES.delete().where(
    PICK_LINES.c.order_id == bindparam("o"), PICK_LINES.c.task_id.is_(None))


def cancel_for_order(conn: Connection, order_id: str, now: datetime) -> None:
    """The order is cancelled before it shipped: its shipments stop, queued picks vanish.

    Lines already in a picker's task stay there (the picker is told the order is cancelled).
    """
    conn.execute(_CANCEL_SHIPMENTS, {"o": order_id, "now": now})
    conn.execute(_DROP_QUEUED_LINES, {"o": order_id})


def add_rerouted(
    conn: Connection, order_id: str, fc_id: str, line: Any, quantity: int, bin_: str,
    now: datetime,
) -> str:
    """A new shipment at fc_id with one queued pick line for units re-routed after a short pick.

    `line` is the short-picked pick line (its SKU, GTIN, price and weight are carried over).
    """
    shipment_id = new_id("shp")
    conn.execute(insert(SHIPMENTS), [{
        "shipment_id": shipment_id, "order_id": order_id, "fc_id": fc_id, "status": "pending",
        "value_minor": 0, "cod_due_minor": 0, "created_at": now, "updated_at": now}])
    conn.execute(insert(PICK_LINES), [{
        "line_id": new_id("pl"), "shipment_id": shipment_id, "order_id": order_id,
        "fc_id": fc_id, "sku": line.sku, "gtin": line.gtin, "bin": bin_ or "",
        "quantity": quantity, "picked": 0, "missing": 0, "task_id": None,
        "unit_price_minor": line.unit_price_minor, "weight_grams": line.weight_grams}])
    return shipment_id
