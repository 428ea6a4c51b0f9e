"""`tote check`: the whole database against the invariants no code path may ever break.

Each finding is a sentence naming the row and what is wrong; an empty list means clean.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from core.domain.money import format_money
from core.domain.order import OrderStatus, PaymentMethod, PaymentState, payment_amounts_disagree
from core.persistence.repos import checks as repo
from core.persistence.repos.checks import OrderMoney, ShipmentState

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
    shipped = repo.units_handed_off(session, HANDED_OFF)
    # Units a picker reported short were taken off the shelf (on hand) for good.
    written_off = repo.units_reported_short(session)
    locked = repo.locks_held(session)
    out = []
    for s in repo.stock_levels(session):
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
    shipments: dict[str, list[ShipmentState]] = defaultdict(list)
    for sh in repo.shipment_states(session):
        shipments[sh.order_id].append(sh)
    out = []
    for o in repo.orders_money(session):
        out += _order(o, shipments.get(o.order_id, []))
    return out


def _order(o: OrderMoney, shipments: list[ShipmentState]) -> list[str]:
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
    for lk in repo.held_locks(session):
        what = f"lock on {lk.quantity} soft + {lk.hard_quantity} hard {lk.sku} at {lk.fc_id}"
        if lk.order_status is None:
            out.append(f"{what} names order {lk.order_id}, which does not exist")
        elif lk.order_status in NO_LOCKS and (lk.quantity or lk.hard_quantity):
            # (a row a short pick emptied, at an FC the order no longer ships from, holds nothing)
            out.append(f"{what} is held for order {lk.order_id}, which is {lk.order_status}")
        elif lk.quantity < 0 or lk.hard_quantity < 0:
            out.append(f"{what} for order {lk.order_id} is negative")
    return out
