"""The order aggregate's repository: typed order and line records, and the saga's statements.

The saga's transitions and PlaceOrder are the hot path: their statements are built once and run
through HotStatement; a record is built straight from its row, and saving it writes only the
columns that changed since it was read (one UPDATE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, literal_column, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from core.domain.order import OrderStatus, PaymentMethod, check_transition
from core.persistence.direct import HotStatement, Soon
from core.persistence.models import Order, OrderLine
from core.persistence.tables import ORDER_LINES, ORDERS, PRODUCTS


@dataclass(slots=True)
class OrderRecord:
    """Every column of one order row; change it, then `save` writes the columns changed."""

    order_id: str
    storefront: str
    idempotency_key: str
    request_hash: str
    customer_id: str
    currency: str
    subtotal_minor: int
    shipping_fee_minor: int
    total_minor: int
    weight_grams: int
    ship_to: dict[str, Any]
    status: str
    inventory_state: str
    payment_method: str
    payment_state: str
    payment_token: str | None
    upi_vpa: str | None
    upi_intent_id: str | None
    upi_intent_uri: str | None
    upi_expires_at: datetime | None
    authorization_id: str | None
    authorized_minor: int
    captured_minor: int
    failure_reason: str | None
    cancel_requested: str | None
    cancel_reason: str | None
    fc_id: str | None
    promised_by: datetime | None
    capture_id: str | None
    refunded_minor: int
    settled_at: datetime | None
    saga_due_at: datetime | None
    saga_leased: bool
    created_at: datetime
    updated_at: datetime
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_locale: str | None = None
    # The values as last read or written, in column order: what `save` compares against.
    stored: tuple[Any, ...] = field(init=False, default=(), repr=False, compare=False)

    def transition(self, to: OrderStatus) -> None:
        """Move to `to` if the order's own status allows it (FailedPrecondition otherwise)."""
        check_transition(OrderStatus(self.status), to)
        self.status = to


@dataclass(frozen=True, slots=True)
class OrderLineRecord:
    order_id: str
    line_no: int
    sku: str
    quantity: int
    unit_price_minor: int
    weight_grams: int


class ProductPrice(NamedTuple):
    """What PlaceOrder reads of a catalog product to price a line."""

    unit_price_minor: int
    currency: str
    weight_grams: int


COLUMNS = tuple(c.key for c in ORDERS.columns)
_LINE_COLUMNS = tuple(c.key for c in ORDER_LINES.columns)
assert COLUMNS == tuple(f for f in OrderRecord.__dataclass_fields__ if f != "stored"), (
    "OrderRecord's fields must be the orders table's columns, in order")
_values_of = attrgetter(*COLUMNS)
_line_values_of = attrgetter(*_LINE_COLUMNS)

# Built once: SQLAlchemy then skips constructing, coercing and cache-keying them on every call
# (that was most of a saga step's time). The UPDATE takes its SET columns from the keys of each
# call's values (compiled once per key set).
_LOCK = HotStatement(select(ORDERS).where(
    ORDERS.c.order_id == bindparam("order_id")).with_for_update())
_READ = HotStatement(select(ORDERS).where(ORDERS.c.order_id == bindparam("order_id")))
_UPDATE = HotStatement(update(ORDERS).where(ORDERS.c.order_id == bindparam("_order_id")))
_INSERT = HotStatement(insert(ORDERS), COLUMNS)
_INSERT_LINES = HotStatement(insert(ORDER_LINES), _LINE_COLUMNS)
_LINE_NEEDS = HotStatement(select(ORDER_LINES.c.sku, ORDER_LINES.c.quantity).where(
    ORDER_LINES.c.order_id == bindparam("order_id")))
_BY_KEY = HotStatement(select(ORDERS.c.order_id, ORDERS.c.request_hash).where(
    ORDERS.c.storefront == bindparam("storefront"),
    ORDERS.c.idempotency_key == bindparam("key")))
_PRICE = HotStatement(select(
    PRODUCTS.c.unit_price_minor, PRODUCTS.c.currency, PRODUCTS.c.weight_grams,
).where(PRODUCTS.c.sku == bindparam("sku")))


def _record(row: Any) -> OrderRecord:
    stored = tuple(row)
    order = OrderRecord(*stored)
    order.stored = stored
    return order


def lock(conn: Connection, order_id: str) -> OrderRecord | None:
    """The order read under lock (FOR UPDATE on PostgreSQL; SQLite's write lock is held)."""
    rows = _LOCK.execute(conn, {"order_id": order_id})
    return _record(rows[0]) if rows else None


def lock_soon(conn: Connection, order_id: str) -> Soon[OrderRecord | None]:
    """`lock`, read with the reads made after it (one round trip on PostgreSQL): they are
    answered once the lock is held, so they see the order as its lock leaves it."""
    return _LOCK.soon(conn, {"order_id": order_id}).then(
        lambda rows: _record(rows[0]) if rows else None)


def read(conn: Connection, order_id: str) -> OrderRecord | None:
    """The order as it is now (no lock)."""
    rows = _READ.execute(conn, {"order_id": order_id})
    return _record(rows[0]) if rows else None


def of_model(order: Order) -> OrderRecord:
    """A record of an ORM order's current values (detached: nothing follows the model)."""
    stored = _values_of(order)
    record = OrderRecord(*stored)
    record.stored = stored
    return record


def save(conn: Connection, order: OrderRecord) -> None:
    """Write the columns changed since the record was read or last saved (one UPDATE)."""
    now = _values_of(order)
    changes = {name: value for name, value, before in zip(COLUMNS, now, order.stored,
                                                          strict=True)
               if value is not before and value != before}
    if changes:
        changes["_order_id"] = order.order_id
        _UPDATE.execute(conn, changes)
        order.stored = now


def insert_order(conn: Connection, order: OrderRecord, lines: list[OrderLineRecord]) -> None:
    """Store a new order and its lines."""
    now = _values_of(order)
    _INSERT.execute(conn, dict(zip(COLUMNS, now, strict=True)))
    _INSERT_LINES.executemany(conn, [dict(zip(_LINE_COLUMNS, _line_values_of(ln), strict=True))
                                     for ln in lines])
    order.stored = now


def by_idempotency_key(conn: Connection, storefront: str, key: str) -> tuple[str, str] | None:
    """(order id, request hash) of the storefront's order placed with this key, if any."""
    return by_idempotency_key_soon(conn, storefront, key).get()


def by_idempotency_key_soon(conn: Connection, storefront: str, key: str,
                            ) -> Soon[tuple[str, str] | None]:
    return _BY_KEY.soon(conn, {"storefront": storefront, "key": key}).then(
        lambda rows: (str(rows[0][0]), str(rows[0][1])) if rows else None)


def product_price(conn: Connection, sku: str) -> ProductPrice | None:
    """A catalog product's price, currency and weight (None: not in the catalog)."""
    return product_price_soon(conn, sku).get()


def product_price_soon(conn: Connection, sku: str) -> Soon[ProductPrice | None]:
    return _PRICE.soon(conn, {"sku": sku}).then(
        lambda found: ProductPrice(*found[0]) if found else None)


def product_prices_soon(conn: Connection, skus: list[str]) -> Soon[dict[str, ProductPrice]]:
    """The catalog products among these SKUs (one round trip for all on PostgreSQL)."""
    each = {sku: product_price_soon(conn, sku) for sku in dict.fromkeys(skus)}
    return Soon(lambda: {sku: found for sku, soon in each.items()
                         if (found := soon.get()) is not None})


def line_needs(conn: Connection, order_id: str) -> list[tuple[str, int]]:
    """(sku, quantity) of each of the order's lines."""
    return line_needs_soon(conn, order_id).get()


def line_needs_soon(conn: Connection, order_id: str) -> Soon[list[tuple[str, int]]]:
    return _LINE_NEEDS.soon(conn, {"order_id": order_id}).then(
        lambda rows: [(sku, quantity) for sku, quantity in rows])


def reschedule(conn: Connection, order_id: str, due: datetime | None) -> None:
    """Set when a saga worker looks at a live order next (its lease, if any, given back)."""
    conn.execute(update(ORDERS).where(
        ORDERS.c.order_id == order_id,
        ORDERS.c.status.not_in([OrderStatus.CANCELLED, OrderStatus.DELIVERED]),
    ).values(saga_due_at=due, saga_leased=False))


def claim_due(conn: Connection, now: datetime, lease_until: datetime,
              limit: int) -> tuple[list[str], int]:
    """Up to `limit` due orders (SKIP LOCKED on PostgreSQL), leased until `lease_until`; and
    how many of them were a lapsed lease (a replica took them and stopped: a takeover)."""
    rows = conn.execute(
        select(ORDERS.c.order_id, ORDERS.c.saga_leased)
        .where(ORDERS.c.saga_due_at.is_not(None), ORDERS.c.saga_due_at <= now)
        .order_by(ORDERS.c.saga_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    ids = [r.order_id for r in rows]
    if ids:
        conn.execute(update(ORDERS).where(ORDERS.c.order_id.in_(ids))
                     .values(saga_due_at=lease_until, saga_leased=True))
    return ids, sum(1 for r in rows if r.saga_leased)


def renew_leases(conn: Connection, order_ids: list[str], now: datetime,
                 lease_until: datetime) -> int:
    """Extend the leases, not yet lapsed, of sagas this replica still holds; how many.

    A lapsed one may be another replica's by now: it is left alone.
    """
    renewed = 0
    for i in range(0, len(order_ids), 500):
        renewed += int(conn.execute(update(ORDERS).where(
            ORDERS.c.order_id.in_(order_ids[i:i + 500]), ORDERS.c.saga_leased.is_(True),
            ORDERS.c.saga_due_at > now,
        ).values(saga_due_at=lease_until)).rowcount)
    return renewed


def release_leases(conn: Connection, now: datetime, order_ids: list[str] | None = None) -> int:
    """Make leased sagas due now (every one, or these while their lease lasts); how many."""
    if order_ids is None:
        result = conn.execute(update(ORDERS).where(ORDERS.c.saga_due_at > now)
                              .values(saga_due_at=now, saga_leased=False))
        return int(result.rowcount)
    released = 0
    for i in range(0, len(order_ids), 500):
        released += int(conn.execute(update(ORDERS).where(
            ORDERS.c.order_id.in_(order_ids[i:i + 500]), ORDERS.c.saga_leased.is_(True),
            ORDERS.c.saga_due_at > now,
        ).values(saga_due_at=now, saga_leased=False)).rowcount)
    return released


def settlement_due(conn: Connection, limit: int) -> list[tuple[str, str]]:
    """(order id, capture id) of card and UPI orders shipped or delivered, captured and not
    settled."""
    # The conditions as literals, as the partial index ix_orders_settlement_due has them: it
    # holds only these orders (migration 0013); the status index walked every one delivered.
    methods = _literals(PaymentMethod.CARD, PaymentMethod.UPI)
    statuses = _literals(OrderStatus.SHIPPED, OrderStatus.DELIVERED)
    rows = conn.execute(
        select(ORDERS.c.order_id, ORDERS.c.capture_id)
        .where(ORDERS.c.payment_method.in_(methods), ORDERS.c.status.in_(statuses),
               ORDERS.c.capture_id.is_not(None), ORDERS.c.settled_at.is_(None))
        .order_by(ORDERS.c.order_id).limit(limit))
    return [(r.order_id, r.capture_id) for r in rows]


def _literals(*values: str) -> list[ColumnElement[str]]:
    return [literal_column(f"'{v}'") for v in values]  # our own enum values, never input


# The cold paths read through the ORM (GetOrder, ListOrders, a cancel request, settlement).

def get(session: Session, order_id: str, *, for_update: bool = False) -> Order | None:
    """The ORM order (locked when `for_update`)."""
    return session.get(Order, order_id, with_for_update=for_update or None)


def lines_of(session: Session, order_ids: list[str]) -> dict[str, list[OrderLine]]:
    """The lines of each of these orders, in line order."""
    lines: dict[str, list[OrderLine]] = {i: [] for i in order_ids}
    if order_ids:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids))
                                    .order_by(OrderLine.order_id, OrderLine.line_no)):
            lines[line.order_id].append(line)
    return lines


def page(session: Session, *, size: int, before: str | None, storefront: str | None,
         status: str | None, fc_id: str, customer_id: str) -> list[Order]:
    """At most `size` orders newest first, below the order id `before`, filtered."""
    stmt = select(Order).order_by(Order.order_id.desc()).limit(size)
    if before:
        stmt = stmt.where(Order.order_id < before)
    if storefront is not None:
        stmt = stmt.where(Order.storefront == storefront)
    if status:
        stmt = stmt.where(Order.status == status)
    if fc_id:
        stmt = stmt.where(Order.fc_id == fc_id)
    if customer_id:
        stmt = stmt.where(Order.customer_id == customer_id)
    return list(session.scalars(stmt))


def unsettled_for_update(session: Session, capture_ids: list[str]) -> list[Order]:
    """The orders of these captures not yet settled, locked."""
    return list(session.scalars(select(Order).where(
        Order.capture_id.in_(capture_ids), Order.settled_at.is_(None)).with_for_update()))
