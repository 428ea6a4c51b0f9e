"""`tote check`: the whole database against the invariants no code path may ever break.

Each finding is a sentence naming the row and what is wrong; an empty list means clean.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain.money import format_money
from core.domain.order import OrderStatus, PaymentMethod, PaymentState, payment_amounts_disagree
from core.persistence.fulfillment_models import PickLine, Shipment
from core.persistence.models import Order, SoftLock, StockLevel

ORDERS = Order.__table__
STOCK = StockLevel.__table__
LOCKS = SoftLock.__table__
SHIPMENTS = Shipment.__table__
LINES = PickLine.__table__

HANDED_OFF = ("shipped", "delivered")
# Payment states the later steps add to the saga's own (API.md: PaymentInfo.state).
LATER_PAYMENT_STATES = {"captured", "cod_collected", "settled", "capturing"}
PAYMENT_STATES = {str(s) for s in PaymentState} | LATER_PAYMENT_STATES
# An order at or past hand-off holds no lock; a cancelled one neither.
NO_LOCKS = {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED}
SHIPMENT_STATUS_FOR = {
    OrderStatus.SHIPPED: set(HANDED_OFF),
    OrderStatus.DELIVERED: {"delivered"},
}


def findings(session: Session) -> list[str]:
    """Every broken invariant in the database, one sentence each."""
    return [*_stock(session), *_orders(session), *_locks(session)]


def _stock(session: Session) -> list[str]:
    shipped: dict[tuple[str, str], int] = defaultdict(int)
    for row in session.execute(
            select(LINES.c.fc_id, LINES.c.sku, func.sum(LINES.c.picked).label("units"))
            .join(SHIPMENTS, SHIPMENTS.c.shipment_id == LINES.c.shipment_id)
            .where(SHIPMENTS.c.status.in_(HANDED_OFF))
            .group_by(LINES.c.fc_id, LINES.c.sku)):
        shipped[(row.fc_id, row.sku)] += int(row.units or 0)
    # Units a picker reported short were taken off the shelf (on hand) for good.
    written_off = {(r.fc_id, r.sku): int(r.units or 0) for r in session.execute(
        select(LINES.c.fc_id, LINES.c.sku, func.sum(LINES.c.missing).label("units"))
        .group_by(LINES.c.fc_id, LINES.c.sku))}
    locked: dict[tuple[str, str], tuple[int, int]] = {}
    for held in session.execute(
            select(LOCKS.c.fc_id, LOCKS.c.sku, func.sum(LOCKS.c.quantity).label("soft"),
                   func.sum(LOCKS.c.hard_quantity).label("hard"))
            .group_by(LOCKS.c.fc_id, LOCKS.c.sku)):
        locked[(held.fc_id, held.sku)] = (int(held.soft or 0), int(held.hard or 0))
    out = []
    for s in session.execute(select(STOCK).order_by(STOCK.c.fc_id, STOCK.c.sku)):
        where = f"stock of {s.sku} at {s.fc_id}"
        gone = shipped.pop((s.fc_id, s.sku), 0)
        short = written_off.get((s.fc_id, s.sku), 0)
        if s.received_total != s.on_hand + gone + short:
            also = f" + reported short {short}" if short else ""
            out.append(f"{where}: received {s.received_total} but on hand {s.on_hand} + "
                       f"shipped {gone}{also} = {s.on_hand + gone + short}")
        if s.soft_locked < 0 or s.hard_locked < 0 or s.soft_locked + s.hard_locked > s.on_hand:
            out.append(f"{where}: soft {s.soft_locked} + hard {s.hard_locked} locked exceeds "
                       f"on hand {s.on_hand} (or is negative)")
        soft, hard = locked.pop((s.fc_id, s.sku), (0, 0))
        if (soft, hard) != (s.soft_locked, s.hard_locked):
            out.append(f"{where}: the level says soft {s.soft_locked}, hard {s.hard_locked} "
                       f"locked but the orders' locks add up to soft {soft}, hard {hard}")
    for (fc_id, sku), units in sorted(shipped.items()):
        out.append(f"{units}×{sku} shipped from {fc_id}, which has no stock level for it")
    for (fc_id, sku), (soft, hard) in sorted(locked.items()):
        out.append(f"locks on {soft + hard}×{sku} at {fc_id}, which has no stock level for it")
    return out


def _orders(session: Session) -> list[str]:
    shipments: dict[str, list[Any]] = defaultdict(list)
    for sh in session.execute(select(SHIPMENTS.c.order_id, SHIPMENTS.c.shipment_id,
                                     SHIPMENTS.c.status, SHIPMENTS.c.value_minor)):
        shipments[sh.order_id].append(sh)
    out = []
    for o in session.execute(select(ORDERS).order_by(ORDERS.c.order_id)):
        out += _order(o, shipments.get(o.order_id, []))
    return out


def _order(o: Any, shipments: list[Any]) -> list[str]:
    me = f"order {o.order_id} ({o.status})"
    if o.status not in set(OrderStatus):
        return [f"{me}: {o.status!r} is not an order status"]
    out = []
    if o.payment_method not in set(PaymentMethod):
        out.append(f"{me}: payment method {o.payment_method!r} is unknown")
    if o.payment_state not in PAYMENT_STATES:
        out.append(f"{me}: payment state {o.payment_state!r} is unknown")
    why = payment_amounts_disagree(o.payment_method, o.payment_state, o.authorized_minor,
                                   o.captured_minor, o.refunded_minor or 0)
    if why is not None:
        cur = o.currency
        out.append(f"{me}: {why} (payment {o.payment_state}: authorized "
                   f"{format_money(o.authorized_minor, cur)}, captured "
                   f"{format_money(o.captured_minor, cur)}, refunded "
                   f"{format_money(o.refunded_minor or 0, cur)})")
    live = [s for s in shipments if s.status != "cancelled"]
    gone = [s for s in live if s.status in HANDED_OFF]
    allowed = SHIPMENT_STATUS_FOR.get(OrderStatus(o.status))
    if allowed is not None and (not live or any(s.status not in allowed for s in live)):
        states = ", ".join(f"{s.shipment_id} {s.status}" for s in live) or "none"
        out.append(f"{me}: its shipments are not all {' or '.join(sorted(allowed))} "
                   f"({states})")
    if o.status in (OrderStatus.CANCELLED, OrderStatus.PENDING, OrderStatus.PROCESSING) and gone:
        out.append(f"{me}: {len(gone)} of its shipments left the building")
    if o.payment_method != PaymentMethod.COD and o.status in NO_LOCKS:
        net = o.captured_minor - o.refunded_minor
        # What ships is paid in full: the goods on the parcels plus the fee quoted once.
        value = sum(s.value_minor for s in gone) + (o.shipping_fee_minor if gone else 0)
        if net != value:
            out.append(f"{me}: captured − refunded is {format_money(net, o.currency)} but the "
                       f"value shipped is {format_money(value, o.currency)}")
    return out


def _locks(session: Session) -> list[str]:
    out = []
    rows = session.execute(
        select(LOCKS.c.order_id, LOCKS.c.fc_id, LOCKS.c.sku, LOCKS.c.quantity,
               LOCKS.c.hard_quantity, ORDERS.c.status)
        .outerjoin(ORDERS, ORDERS.c.order_id == LOCKS.c.order_id)
        .order_by(LOCKS.c.order_id, LOCKS.c.fc_id, LOCKS.c.sku))
    for lk in rows:
        what = f"lock on {lk.quantity} soft + {lk.hard_quantity} hard {lk.sku} at {lk.fc_id}"
        if lk.status is None:
            out.append(f"{what} names order {lk.order_id}, which does not exist")
        elif lk.status in NO_LOCKS and (lk.quantity or lk.hard_quantity):
            # (a row a short pick emptied, at an FC the order no longer ships from, holds nothing)
            out.append(f"{what} is held for order {lk.order_id}, which is {lk.status}")
        elif lk.quantity < 0 or lk.hard_quantity < 0:
            out.append(f"{what} for order {lk.order_id} is negative")
    return out
