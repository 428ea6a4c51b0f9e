"""Stock per FC × SKU and the soft locks the saga takes on it.

Every lock is a conditional update (`… WHERE on_hand - soft_locked - hard_locked >= q`) and the
table's CHECK constraints forbid locking more than is on hand: no oversell under any concurrency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.errors import InvalidArgument, NotFound
from core.persistence.models import StockLevel
from core.persistence.repos import stock as repo
from core.persistence.repos.stock import Level

MAX_RECEIVE = 1_000_000


class LockRace(Exception):
    """A conditional update lost a race with another transaction: retry the whole step."""


def receive_stock(session: Session, fc_id: str, sku: str, quantity: int, bin_: str) -> StockLevel:
    """Add received units to on-hand stock at an FC (and set the bin when given)."""
    if quantity <= 0 or quantity > MAX_RECEIVE:
        raise InvalidArgument(f"quantity must be 1..{MAX_RECEIVE}, got {quantity}",
                              field="quantity")
    if len(bin_) > 32:
        raise InvalidArgument("bin is at most 32 characters", field="bin")
    if not repo.fc_exists(session, fc_id):
        raise NotFound(f"no fulfillment center {fc_id[:64]!r}")
    if not repo.product_exists(session, sku):
        raise NotFound(f"no product with SKU {sku[:64]!r}: upsert it in the catalog first")
    if not repo.add_received(session, fc_id, sku, quantity):
        session.add(StockLevel(fc_id=fc_id, sku=sku, on_hand=quantity, soft_locked=0,
                               hard_locked=0, received_total=quantity, bin=bin_))
    session.flush()
    level = repo.level(session, fc_id, sku)
    assert level is not None
    if bin_:
        level.bin = bin_
    return level


def get_stock(session: Session, sku: str, fc_id: str) -> list[StockLevel]:
    """Stock levels for a SKU and/or an FC (empty filters match everything)."""
    return repo.levels(session, sku, fc_id)


def available(level: Level | StockLevel) -> int:
    """Units neither soft- nor hard-locked."""
    return level.on_hand - level.soft_locked - level.hard_locked


def plan_soft_locks(
    levels: list[Level], needs: dict[str, int]
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


def shortfall(levels: list[Level], needs: dict[str, int]) -> str:
    """A sentence saying which SKUs are short, for the cancel reason."""
    have: dict[str, int] = defaultdict(int)
    for level in levels:
        have[level.sku] += max(available(level), 0)
    parts = [f"{sku} needs {q}, {have[sku]} available" for sku, q in sorted(needs.items())
             if have[sku] < q]
    return "out of stock: " + "; ".join(parts) + " across all fulfillment centers"


Planner = Callable[[list[Level], dict[str, int]], "dict[tuple[str, str], int] | None"]


def soft_lock(
    db: Session | Connection, order_id: str, needs: dict[str, int],
    planner: Planner = plan_soft_locks, *, levels: list[Level] | None = None,
) -> tuple[str | None, str]:
    """Soft-lock the needed units for an order: (main FC, detail), or (None, reason) if short.

    `planner` decides where (FC routing passes its own; the default takes the most stock).
    `levels`: the needed SKUs' stock, read already in this transaction (else read here).
    """
    conn = db.connection() if isinstance(db, Session) else db
    if levels is None:
        levels = [level for sku in needs for level in repo.levels_of(conn, sku)]
    plan = planner(levels, needs)
    if plan is None:
        return None, shortfall(levels, needs)
    for (fc_id, sku), q in sorted(plan.items()):
        if not repo.take(conn, fc_id, sku, q):
            raise LockRace(f"{sku} at {fc_id} changed while locking")
    repo.add_locks(conn, order_id, [(fc, sku, q) for (fc, sku), q in sorted(plan.items())])
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
    locks = repo.locks_of(conn, order_id)
    for lock in locks:
        repo.give_back(conn, lock)
    repo.drop_locks(conn, order_id)
    return sum(lock.quantity + lock.hard_quantity for lock in locks)
