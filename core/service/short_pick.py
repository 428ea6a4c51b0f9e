"""Short picks: units a picker cannot find are re-routed to another FC, or cancelled.

The missing units are not on the shelf, so they leave this FC's stock (an inventory
adjustment) and the order's soft lock here. Another FC that has them available soft-locks them
(a conditional update: no oversell) and gets a new shipment with a queued pick line. Units no FC
has are cancelled from the order; what is charged is computed at packing from what is packed,
so the customer never pays for them. An order left with nothing to ship is cancelled through
the saga's compensations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.domain.events import EventType
from core.domain.words import count
from core.persistence.repos import picking as pick_repo
from core.persistence.repos import short_picks as repo
from core.persistence.repos.picking import DONE, OrderRef, TaskLine
from core.service import events, shipments
from core.service.picking import (
    check_operator,
    close_shipment_if_done,
    is_live,
    line_reply,
    lock_task,
    require_open,
    touch_task,
)


def report_short_pick(
    session: Session, task_id: str, line_id: str, missing: int, operator_id: str,
    now: datetime,
) -> tuple[dict[str, Any], str | None]:
    """Record that `missing` units of the line are not in the bin; re-route or cancel them.

    `missing` is the line's total of missing units, so a report retried over a flaky link
    changes nothing the second time (a later, larger number adds the difference). The line
    keeps the badge of who reported it (`short_reported_by`, the audit trail).
    Returns (the reply {"line", "task_complete"}, the order id to cancel or None).
    """
    operator = check_operator(operator_id)
    if not line_id:
        raise InvalidArgument("line_id is required", field="line_id")
    if missing < 1:
        raise InvalidArgument(f"missing must be at least 1, got {missing}", field="missing")
    conn = session.connection()
    task = lock_task(conn, task_id)
    line = pick_repo.task_line(conn, task_id, line_id)
    if line is None:
        raise NotFound(f"line {line_id[:64]!r} is not in pick task {task_id}")
    if not is_live(line):
        raise FailedPrecondition(f"order {line.order_id} was cancelled: nothing to pick or "
                                 f"report for line {line_id}")
    left = line.quantity - line.picked
    if missing > left:
        raise InvalidArgument(
            f"line {line_id} has {count(left, 'unit')} not yet picked ({line.picked} of "
            f"{line.quantity} picked); missing must be 1..{left}", field="missing")
    delta = missing - line.missing
    if delta <= 0:  # the same report again (perhaps after it closed the task)
        return line_reply(conn, task_id, line_id, task.status == DONE), None
    require_open(task)
    _take_off_shelf(conn, line, delta, operator)
    order = pick_repo.order_ref(conn, line.order_id)
    unplaced = _reroute(conn, order, line, delta, now)
    if unplaced:
        events.record(conn, order, EventType.INVENTORY_RELEASED, now,
                      f"{unplaced}×{line.sku} cancelled: out of stock everywhere; the customer "
                      "will not be charged for it")
    close_shipment_if_done(conn, line.shipment_id, now)
    reply = line_reply(conn, task_id, line_id, touch_task(conn, task_id, now))
    return reply, _cancel_if_nothing_left(conn, order, now)


def _take_off_shelf(conn: Connection, line: TaskLine, units: int, operator: str | None) -> None:
    """The units are not there: out of on-hand stock and out of the order's soft lock."""
    if not repo.take_off_shelf(conn, line, units, operator):
        raise FailedPrecondition(
            f"line {line.line_id} changed while the short pick was recorded, or order "
            f"{line.order_id} holds no {units}×{line.sku} at {line.fc_id}; try again")


def _reroute(conn: Connection, order: OrderRef, line: TaskLine, units: int, now: datetime
             ) -> int:
    """Soft-lock the units at other FCs (most available first); returns the units not placed."""
    left = units
    for fc in repo.stock_elsewhere(conn, line.sku, line.fc_id):
        if left == 0:
            break
        take = min(left, fc.available)
        # Conditional: another order may have taken the stock since it was read.
        if not repo.soft_lock_stock(conn, fc.fc_id, line.sku, take):
            continue
        repo.add_to_lock(conn, order.order_id, fc.fc_id, line.sku, take)
        shipments.add_rerouted(conn, order.order_id, fc.fc_id, line, take, fc.bin, now)
        events.record(conn, order, EventType.ORDER_ASSIGNED, now,
                      f"{take}×{line.sku} re-routed to {fc.fc_id} after a short pick at "
                      f"{line.fc_id}")
        left -= take
    return left


def _cancel_if_nothing_left(conn: Connection, order: OrderRef, now: datetime) -> str | None:
    """No unit of the order is left to ship: ask the saga to cancel it (its compensations)."""
    if any(units > 0 for units in repo.units_left(conn, order.order_id)):
        return None
    repo.request_cancel(conn, order.order_id, "cancelled by the warehouse: every unit was "
                        "short-picked and none is in stock at another FC", now)
    return order.order_id
