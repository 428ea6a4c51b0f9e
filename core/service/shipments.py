"""Shipments: when an order is ready, what each fulfillment center picks, packs and ships.

One shipment per FC that holds soft locks for the order (an order split across FCs ships in
several parcels), each with its pick lines — queued for the FC's pickers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Connection

from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.words import count
from core.persistence.repos import shipments as repo
from core.persistence.repos.shipments import LockToPick, NewPickLine, NewShipment
from core.service import events
from core.service.events import OrderRef


class PickReads:
    """What queueing an order's pick lines reads — its prices, its soft locks with their bins
    and GTINs — asked for before it is known to be needed (`pick_reads_soon`): read with what
    the caller reads first, one round trip on PostgreSQL. Only for a transaction that changes
    neither before the lines are queued."""

    def __init__(self, conn: Connection, order_id: str) -> None:
        self.prices = repo.line_prices_soon(conn, order_id)
        self.locks = repo.locks_to_pick_soon(conn, order_id)


def pick_reads_soon(conn: Connection, order_id: str) -> PickReads:
    return PickReads(conn, order_id)


def create_for_order(conn: Connection, order: OrderRef, now: datetime,
                     reads: PickReads | None = None) -> list[str]:
    """Create the order's shipments and queue their pick lines; Order_Assigned. Returns FC ids.
    `reads`: the prices and soft locks asked for already."""
    fcs, n_lines = _queue(conn, order, now, reads)
    where = fcs[0] if len(fcs) == 1 else f"{len(fcs)} shipments from {', '.join(fcs)}"
    events.record(conn, order, EventType.ORDER_ASSIGNED, now,
                  f"assigned to {where}; {count(n_lines, 'pick line')} queued")
    return fcs


def _queue(conn: Connection, order: OrderRef, now: datetime, reads: PickReads | None = None,
           ) -> tuple[list[str], int]:
    """Shipments and queued pick lines for where the order's soft locks are now."""
    if reads is None:
        reads = PickReads(conn, order.order_id)
    locks = reads.locks.get()  # and the prices with it: one round trip for both
    prices = reads.prices.get()
    by_fc: dict[str, list[LockToPick]] = defaultdict(list)
    for lock in locks:
        if lock.quantity > 0:
            by_fc[lock.fc_id].append(lock)
    shipments, lines = [], []
    for fc_id, locks in by_fc.items():
        shipment_id = new_id("shp")
        shipments.append(NewShipment(shipment_id, order.order_id, fc_id, now))
        for lock in locks:
            price = prices[lock.sku]
            lines.append(NewPickLine(new_id("pl"), shipment_id, order.order_id, fc_id, lock.sku,
                                     lock.gtin, lock.bin or "", lock.quantity,
                                     price.unit_price_minor, price.weight_grams))
    repo.add(conn, shipments, lines)
    fcs = sorted(by_fc, key=lambda fc: (-sum(lk.quantity for lk in by_fc[fc]), fc))
    return fcs, len(lines)


def requeue_for_order(conn: Connection, order: OrderRef, now: datetime, detail: str) -> list[str]:
    """The order's locks moved before picking began: its pending shipments and queued lines are
    replaced by new ones where the locks are now; Order_Assigned with `detail`. Returns FC ids.
    """
    repo.drop_unstarted(conn, order.order_id)
    fcs, n_lines = _queue(conn, order, now)
    events.record(conn, order, EventType.ORDER_ASSIGNED, now,
                  f"{detail}; {count(n_lines, 'pick line')} queued")
    return fcs


def cancel_for_order(conn: Connection, order_id: str, now: datetime) -> None:
    """The order is cancelled before it shipped: its shipments stop, queued picks vanish.

    Lines already in a picker's task stay there (the picker is told the order is cancelled).
    """
    repo.cancel_for_order(conn, order_id, now)


class ReroutedLine(Protocol):
    """What a re-routed pick line carries over from the short-picked one."""

    @property
    def sku(self) -> str: ...
    @property
    def gtin(self) -> str: ...
    @property
    def unit_price_minor(self) -> int: ...
    @property
    def weight_grams(self) -> int: ...


def add_rerouted(
    conn: Connection, order_id: str, fc_id: str, line: ReroutedLine, quantity: int, bin_: str,
    now: datetime,
) -> str:
    """A new shipment at fc_id with one queued pick line for units re-routed after a short pick.

    `line` is the short-picked pick line (its SKU, GTIN, price and weight are carried over).
    """
    shipment_id = new_id("shp")
    repo.add(conn, [NewShipment(shipment_id, order_id, fc_id, now)], [
        NewPickLine(new_id("pl"), shipment_id, order_id, fc_id, line.sku, line.gtin, bin_ or "",
                    quantity, line.unit_price_minor, line.weight_grams)])
    return shipment_id
