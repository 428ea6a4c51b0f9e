"""Stock per FC × SKU and the soft locks the saga takes on it.

Every lock is a conditional update (`… WHERE on_hand - soft_locked - hard_locked >= q`) and the
table's CHECK constraints forbid locking more than is on hand: no oversell under any concurrency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.errors import InvalidArgument, NotFound
from core.persistence.direct import HotStatement
from core.persistence.models import FulfillmentCenter, Product, SoftLock, StockLevel

MAX_RECEIVE = 1_000_000
STOCK = StockLevel.__table__
LOCKS = SoftLock.__table__

# The saga's statements, compiled once and run on the DBAPI connection (direct.py).
_LEVEL = HotStatement(select(STOCK.c.fc_id, STOCK.c.sku, STOCK.c.on_hand, STOCK.c.soft_locked,
                             STOCK.c.hard_locked).where(STOCK.c.sku == bindparam("sku")))
# Conditional: takes the units only while they are available (no oversell under concurrency).
_TAKE = HotStatement(
    update(STOCK)
    .where(STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku == bindparam("s"),
           STOCK.c.on_hand - STOCK.c.soft_locked - STOCK.c.hard_locked >= bindparam("q"))
    .values(soft_locked=STOCK.c.soft_locked + bindparam("q"))
)
_GIVE_BACK = HotStatement(
    update(STOCK)
    .where(STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku == bindparam("s"))
    .values(soft_locked=STOCK.c.soft_locked - bindparam("q"),
            hard_locked=STOCK.c.hard_locked - bindparam("h"))
)
_INSERT_LOCKS = HotStatement(insert(LOCKS), ["order_id", "fc_id", "sku", "quantity"])
_ORDER_LOCKS = HotStatement(select(LOCKS.c.fc_id, LOCKS.c.sku, LOCKS.c.quantity,
                                   LOCKS.c.hard_quantity)
                            .where(LOCKS.c.order_id == bindparam("order_id")))
_DELETE_LOCKS = HotStatement(delete(LOCKS).where(LOCKS.c.order_id == bindparam("order_id")))


class LockRace(Exception):
    """A conditional update lost a race with another transaction: retry the whole step."""


def receive_stock(session: Session, fc_id: str, sku: str, quantity: int, bin_: str) -> StockLevel:
    """Add received units to on-hand stock at an FC (and set the bin when given)."""
    if quantity <= 0 or quantity > MAX_RECEIVE:
        raise InvalidArgument(f"quantity must be 1..{MAX_RECEIVE}, got {quantity}",
                              field="quantity")
    if len(bin_) > 32:
        raise InvalidArgument("bin is at most 32 characters", field="bin")
    if session.get(FulfillmentCenter, fc_id) is None:
        raise NotFound(f"no fulfillment center {fc_id[:64]!r}")
    if session.get(Product, sku) is None:
        raise NotFound(f"no product with SKU {sku[:64]!r}: upsert it in the catalog first")
    stmt = (
        update(StockLevel)
        .where(StockLevel.fc_id == fc_id, StockLevel.sku == sku)
        .values(on_hand=StockLevel.on_hand + quantity,
                received_total=StockLevel.received_total + quantity)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        session.add(StockLevel(fc_id=fc_id, sku=sku, on_hand=quantity, soft_locked=0,
                               hard_locked=0, received_total=quantity, bin=bin_))
    session.flush()
    level = session.get(StockLevel, (fc_id, sku), populate_existing=True)
    assert level is not None
    if bin_:
        level.bin = bin_
    return level


def get_stock(session: Session, sku: str, fc_id: str) -> list[StockLevel]:
    """Stock levels for a SKU and/or an FC (empty filters match everything)."""
    stmt = select(StockLevel).order_by(StockLevel.fc_id, StockLevel.sku)
    if sku:
        stmt = stmt.where(StockLevel.sku == sku)
    if fc_id:
        stmt = stmt.where(StockLevel.fc_id == fc_id)
    return list(session.scalars(stmt))


def available(level: Any) -> int:
    return level.on_hand - level.soft_locked - level.hard_locked


def plan_soft_locks(
    levels: list[Any], needs: dict[str, int]
) -> dict[tuple[str, str], int] | None:
    """Where to lock each SKU: one FC that has every line if any, else split across FCs."""
    by_fc: dict[str, dict[str, int]] = defaultdict(dict)
    for level in levels:
        by_fc[level.fc_id][level.sku] = available(level)
    whole = [fc for fc, stock in by_fc.items()
             if all(stock.get(sku, 0) >= q for sku, q in needs.items())]
    if whole:
        best = min(whole, key=lambda fc: (-sum(by_fc[fc].get(s, 0) for s in needs), fc))
        return {(best, sku): q for sku, q in needs.items()}
    plan: dict[tuple[str, str], int] = {}
    for sku, q in needs.items():
        left = q
        for fc in sorted(by_fc, key=lambda f: (-by_fc[f].get(sku, 0), f)):
            take = min(left, by_fc[fc].get(sku, 0))
            if take > 0:
                plan[(fc, sku)] = take
                left -= take
        if left > 0:
            return None
    return plan


def shortfall(levels: list[Any], needs: dict[str, int]) -> str:
    """A sentence saying which SKUs are short, for the cancel reason."""
    have: dict[str, int] = defaultdict(int)
    for level in levels:
        have[level.sku] += max(available(level), 0)
    parts = [f"{sku} needs {q}, {have[sku]} available" for sku, q in sorted(needs.items())
             if have[sku] < q]
    return "out of stock: " + "; ".join(parts) + " across all fulfillment centers"


Planner = Callable[[list[Any], dict[str, int]], "dict[tuple[str, str], int] | None"]


def soft_lock(
    db: Session | Connection, order_id: str, needs: dict[str, int],
    planner: Planner = plan_soft_locks,
) -> tuple[str | None, str]:
    """Soft-lock the needed units for an order: (main FC, detail), or (None, reason) if short.

    `planner` decides where (FC routing passes its own; the default takes the most stock).
    """
    conn = db.connection() if isinstance(db, Session) else db
    levels: list[Any] = [level for sku in needs for level in _LEVEL.execute(conn, {"sku": sku})]
    plan = planner(levels, needs)
    if plan is None:
        return None, shortfall(levels, needs)
    for (fc_id, sku), q in sorted(plan.items()):
        if _TAKE.rowcount(conn, {"fc": fc_id, "s": sku, "q": q}) != 1:
            raise LockRace(f"{sku} at {fc_id} changed while locking")
    _INSERT_LOCKS.executemany(conn, [
        {"order_id": order_id, "fc_id": fc, "sku": sku, "quantity": q}
        for (fc, sku), q in sorted(plan.items())])
    units: dict[str, int] = defaultdict(int)
    for (fc, _sku), q in plan.items():
        units[fc] += q
    main_fc = min(units, key=lambda fc: (-units[fc], fc))
    detail = ", ".join(f"{q}×{sku} at {fc}" for (fc, sku), q in sorted(plan.items()))
    return main_fc, detail + ("" if len(units) == 1 else " (split across FCs)")


def release_soft_locks(db: Session | Connection, order_id: str) -> int:
    """Give an order's locked units back to available stock; returns units released.

    Soft locks and hard locks alike: a unit already picked goes back on the shelf.
    """
    conn = db.connection() if isinstance(db, Session) else db
    locks = _ORDER_LOCKS.execute(conn, {"order_id": order_id})
    for lock in locks:
        _GIVE_BACK.execute(conn, {"fc": lock.fc_id, "s": lock.sku, "q": lock.quantity,
                                  "h": lock.hard_quantity})
    _DELETE_LOCKS.execute(conn, {"order_id": order_id})
    return sum(lock.quantity + lock.hard_quantity for lock in locks)
