"""Stock per FC × SKU and the soft locks orders hold on it.

Every lock is a conditional update (`… WHERE on_hand - soft_locked - hard_locked >= q`) and the
table's CHECK constraints forbid locking more than is on hand: no oversell under any concurrency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.orm import Session

from core.persistence.direct import HotStatement, Soon
from core.persistence.models import FulfillmentCenter, Product, StockLevel
from core.persistence.tables import ORDER_LINES, SOFT_LOCKS, STOCK_LEVELS

STOCK = STOCK_LEVELS
LOCKS = SOFT_LOCKS


@dataclass(frozen=True, slots=True)
class Level:
    """One FC's stock of one SKU, as locking sees it."""

    fc_id: str
    sku: str
    on_hand: int
    soft_locked: int
    hard_locked: int


@dataclass(frozen=True, slots=True)
class Lock:
    """Units of one SKU an order holds at one FC (soft: not picked yet; hard: picked)."""

    fc_id: str
    sku: str
    quantity: int
    hard_quantity: int


# The saga's statements, compiled once and run on the DBAPI connection (direct.py).
_LEVEL = HotStatement(select(STOCK.c.fc_id, STOCK.c.sku, STOCK.c.on_hand, STOCK.c.soft_locked,
                             STOCK.c.hard_locked).where(STOCK.c.sku == bindparam("sku")))
_ORDER_LEVELS = HotStatement(
    select(STOCK.c.fc_id, STOCK.c.sku, STOCK.c.on_hand, STOCK.c.soft_locked, STOCK.c.hard_locked)
    .where(STOCK.c.sku.in_(select(ORDER_LINES.c.sku)
                           .where(ORDER_LINES.c.order_id == bindparam("order_id"))))
    .order_by(STOCK.c.sku, STOCK.c.fc_id))
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
_AVAILABLE_AT = select(STOCK.c.sku, STOCK.c.on_hand - STOCK.c.soft_locked
                       - STOCK.c.hard_locked).where(
    STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku.in_(bindparam("skus", expanding=True)))
_UNLOCK = (update(STOCK)
           .where(STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku == bindparam("s"))
           .values(soft_locked=STOCK.c.soft_locked - bindparam("q")))
# Conditional, like the saga's lock: the units move only while they are still available.
_RELOCK = (update(STOCK)
           .where(STOCK.c.fc_id == bindparam("fc"), STOCK.c.sku == bindparam("s"),
                  STOCK.c.on_hand - STOCK.c.soft_locked - STOCK.c.hard_locked
                  >= bindparam("q"))
           .values(soft_locked=STOCK.c.soft_locked + bindparam("q")))


def levels_of(conn: Connection, sku: str) -> list[Level]:
    """The SKU's stock at every FC that has a row for it."""
    return [Level(*row) for row in _LEVEL.execute(conn, {"sku": sku})]


def levels_for_order_soon(conn: Connection, order_id: str) -> Soon[list[Level]]:
    """The stock of every SKU the order has a line for, at every FC that has a row for it."""
    return _ORDER_LEVELS.soon(conn, {"order_id": order_id}).then(
        lambda rows: [Level(*row) for row in rows])


def take(conn: Connection, fc_id: str, sku: str, quantity: int) -> bool:
    """Soft-lock units if they are still available; False when they are not."""
    return _TAKE.rowcount(conn, {"fc": fc_id, "s": sku, "q": quantity}) == 1


def add_locks(conn: Connection, order_id: str, plan: Iterable[tuple[str, str, int]]) -> None:
    """The order's new soft locks: (fc, sku, quantity) each."""
    _INSERT_LOCKS.executemany(conn, [
        {"order_id": order_id, "fc_id": fc, "sku": sku, "quantity": q} for fc, sku, q in plan])


def locks_of(conn: Connection, order_id: str) -> list[Lock]:
    """The units the order holds, per FC and SKU."""
    return [Lock(*row) for row in _ORDER_LOCKS.execute(conn, {"order_id": order_id})]


def give_back(conn: Connection, lock: Lock) -> None:
    """Return a lock's units (soft and hard) to available stock; the lock row stays."""
    _GIVE_BACK.execute(conn, {"fc": lock.fc_id, "s": lock.sku, "q": lock.quantity,
                              "h": lock.hard_quantity})


def drop_locks(conn: Connection, order_id: str) -> None:
    _DELETE_LOCKS.execute(conn, {"order_id": order_id})


def available_at(conn: Connection, fc_id: str, skus: list[str]) -> dict[str, int]:
    """Units available (on hand less locked) of these SKUs at one FC."""
    return {sku: int(n) for sku, n in conn.execute(_AVAILABLE_AT, {"fc": fc_id, "skus": skus})}


def unlock(conn: Connection, fc_id: str, sku: str, quantity: int) -> None:
    """Give soft-locked units back at one FC."""
    conn.execute(_UNLOCK, {"fc": fc_id, "s": sku, "q": quantity})


def relock(conn: Connection, fc_id: str, sku: str, quantity: int) -> bool:
    """Soft-lock units at one FC if still available (False: they were taken meanwhile)."""
    return conn.execute(_RELOCK, {"fc": fc_id, "s": sku, "q": quantity}).rowcount == 1


def replace_locks(conn: Connection, order_id: str, fc_id: str, units: dict[str, int]) -> None:
    """The order's locks become these units per SKU, all at one FC (nothing hard-locked)."""
    conn.execute(delete(LOCKS).where(LOCKS.c.order_id == order_id))
    conn.execute(insert(LOCKS), [{"order_id": order_id, "fc_id": fc_id, "sku": sku,
                                  "quantity": q, "hard_quantity": 0}
                                 for sku, q in sorted(units.items())])


# Receiving and reading stock (the catalog's cold paths) go through the ORM.

def fc_exists(session: Session, fc_id: str) -> bool:
    return session.get(FulfillmentCenter, fc_id) is not None


def product_exists(session: Session, sku: str) -> bool:
    return session.get(Product, sku) is not None


def add_received(session: Session, fc_id: str, sku: str, quantity: int) -> bool:
    """Add units to an existing level's on-hand and received totals; False: no such level."""
    stmt = (
        update(StockLevel)
        .where(StockLevel.fc_id == fc_id, StockLevel.sku == sku)
        .values(on_hand=StockLevel.on_hand + quantity,
                received_total=StockLevel.received_total + quantity)
        .execution_options(synchronize_session=False)
    )
    # An UPDATE's result is a CursorResult (Session.execute is typed as any Result).
    result = cast(CursorResult[Any], session.execute(stmt))
    return result.rowcount != 0


def level(session: Session, fc_id: str, sku: str) -> StockLevel | None:
    """The level as stored now (refreshed if the session held it)."""
    return session.get(StockLevel, (fc_id, sku), populate_existing=True)


def levels(session: Session, sku: str, fc_id: str) -> list[StockLevel]:
    """Stock levels for a SKU and/or an FC (empty filters match everything)."""
    stmt = select(StockLevel).order_by(StockLevel.fc_id, StockLevel.sku)
    if sku:
        stmt = stmt.where(StockLevel.sku == sku)
    if fc_id:
        stmt = stmt.where(StockLevel.fc_id == fc_id)
    return list(session.scalars(stmt))
