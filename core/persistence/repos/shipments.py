"""Shipments (parcels) and their pick lines: queued when an order is ready, packed, cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from sqlalchemy import bindparam, insert, literal_column, or_, select, update
from sqlalchemy.engine import Connection

from core.domain import packing as rules
from core.persistence.direct import HotStatement, Soon
from core.persistence.tables import (
    ORDER_LINES,
    PICK_LINES,
    PRODUCTS,
    SHIPMENTS,
    SOFT_LOCKS,
    STOCK_LEVELS,
)


@dataclass(frozen=True, slots=True)
class ShipmentRecord:
    """Every column of one shipment row."""

    shipment_id: str
    order_id: str
    fc_id: str
    status: str
    carrier: str | None
    service: str | None
    tracking_number: str | None
    weight_grams: int | None
    box: str | None
    carrier_cost_minor: int | None
    value_minor: int
    cod_due_minor: int
    cod_collected_minor: int | None
    label_pdf: bytes | None
    label_zpl: str | None
    manifest_id: str | None
    created_at: datetime
    updated_at: datetime
    packed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Parcel:
    """A shipment as an order's answer shows it."""

    shipment_id: str
    fc_id: str
    status: str
    carrier: str | None
    tracking_number: str | None


@dataclass(frozen=True, slots=True)
class LockToPick:
    """A soft lock of the order with where its units lie (bin) and their GTIN."""

    fc_id: str
    sku: str
    quantity: int
    bin: str | None
    gtin: str


@dataclass(frozen=True, slots=True)
class LinePrice:
    sku: str
    unit_price_minor: int
    weight_grams: int


@dataclass(frozen=True, slots=True)
class NewShipment:
    shipment_id: str
    order_id: str
    fc_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewPickLine:
    line_id: str
    shipment_id: str
    order_id: str
    fc_id: str
    sku: str
    gtin: str
    bin: str
    quantity: int
    unit_price_minor: int
    weight_grams: int


_COLUMNS = tuple(c.key for c in SHIPMENTS.columns)
assert _COLUMNS == tuple(ShipmentRecord.__dataclass_fields__), "ShipmentRecord is the table's row"
_NEW_LINE_FIELDS = tuple(NewPickLine.__dataclass_fields__)
_new_line_values = attrgetter(*_NEW_LINE_FIELDS)

# Compiled once and run on the DBAPI connection (direct.py): every ready order runs them.
_ORDER_LOCKS = HotStatement(
    select(SOFT_LOCKS.c.fc_id, SOFT_LOCKS.c.sku, SOFT_LOCKS.c.quantity, STOCK_LEVELS.c.bin,
           PRODUCTS.c.gtin)
    .join(STOCK_LEVELS, (STOCK_LEVELS.c.fc_id == SOFT_LOCKS.c.fc_id)
          & (STOCK_LEVELS.c.sku == SOFT_LOCKS.c.sku))
    .join(PRODUCTS, PRODUCTS.c.sku == SOFT_LOCKS.c.sku)
    .where(SOFT_LOCKS.c.order_id == bindparam("order_id"))
    .order_by(SOFT_LOCKS.c.fc_id, SOFT_LOCKS.c.sku)
)
_ORDER_PRICES = HotStatement(select(ORDER_LINES.c.sku, ORDER_LINES.c.unit_price_minor,
                                    ORDER_LINES.c.weight_grams)
                             .where(ORDER_LINES.c.order_id == bindparam("order_id")))
_INSERT_SHIPMENTS = HotStatement(insert(SHIPMENTS), [
    "shipment_id", "order_id", "fc_id", "status", "value_minor", "cod_due_minor",
    "created_at", "updated_at"])
_INSERT_PICK_LINES = HotStatement(insert(PICK_LINES), [
    *_NEW_LINE_FIELDS, "picked", "missing", "task_id"])
_DROP_PENDING = SHIPMENTS.delete().where(
    SHIPMENTS.c.order_id == bindparam("o"), SHIPMENTS.c.status == "pending")
_DROP_QUEUED_LINES = PICK_LINES.delete().where(
    PICK_LINES.c.order_id == bindparam("o"), PICK_LINES.c.task_id.is_(None))
_CANCEL = (
    SHIPMENTS.update()
    .where(SHIPMENTS.c.order_id == bindparam("o"),
           SHIPMENTS.c.status.in_(["pending", "picking", "picked", "packing"]))
    .values(status="cancelled", updated_at=bindparam("now"))
)
_OF_ORDER = (select(SHIPMENTS).where(SHIPMENTS.c.order_id == bindparam("o"))
             .order_by(SHIPMENTS.c.created_at, SHIPMENTS.c.shipment_id))
_GET = select(SHIPMENTS).where(SHIPMENTS.c.shipment_id == bindparam("s"))


def locks_to_pick(conn: Connection, order_id: str) -> list[LockToPick]:
    """The order's soft locks by FC and SKU, with each unit's bin and GTIN."""
    return locks_to_pick_soon(conn, order_id).get()


def locks_to_pick_soon(conn: Connection, order_id: str) -> Soon[list[LockToPick]]:
    return _ORDER_LOCKS.soon(conn, {"order_id": order_id}).then(
        lambda rows: [LockToPick(*row) for row in rows])


def line_prices(conn: Connection, order_id: str) -> dict[str, LinePrice]:
    """The unit price and weight of each SKU the order has a line for."""
    return line_prices_soon(conn, order_id).get()


def line_prices_soon(conn: Connection, order_id: str) -> Soon[dict[str, LinePrice]]:
    return _ORDER_PRICES.soon(conn, {"order_id": order_id}).then(
        lambda rows: {row.sku: LinePrice(*row) for row in rows})


def add(conn: Connection, shipments: Sequence[NewShipment], lines: Sequence[NewPickLine]) -> None:
    """New pending shipments with their queued pick lines."""
    if not shipments:
        return
    _INSERT_SHIPMENTS.executemany(conn, [
        {"shipment_id": s.shipment_id, "order_id": s.order_id, "fc_id": s.fc_id,
         "status": "pending", "value_minor": 0, "cod_due_minor": 0,
         "created_at": s.created_at, "updated_at": s.created_at} for s in shipments])
    _INSERT_PICK_LINES.executemany(conn, [
        {**dict(zip(_NEW_LINE_FIELDS, _new_line_values(ln), strict=True)),
         "picked": 0, "missing": 0, "task_id": None} for ln in lines])


def drop_unstarted(conn: Connection, order_id: str) -> None:
    """Remove the order's queued pick lines and pending shipments (they are made anew)."""
    conn.execute(_DROP_QUEUED_LINES, {"o": order_id})
    conn.execute(_DROP_PENDING, {"o": order_id})


def cancel_for_order(conn: Connection, order_id: str, now: datetime) -> None:
    """Unshipped shipments are cancelled; queued pick lines removed."""
    conn.execute(_CANCEL, {"o": order_id, "now": now})
    conn.execute(_DROP_QUEUED_LINES, {"o": order_id})


def of_order(conn: Connection, order_id: str) -> list[ShipmentRecord]:
    """The order's shipments, oldest first."""
    return [ShipmentRecord(*row) for row in conn.execute(_OF_ORDER, {"o": order_id})]


def get(conn: Connection, shipment_id: str) -> ShipmentRecord | None:
    row = conn.execute(_GET, {"s": shipment_id}).first()
    return ShipmentRecord(*row) if row is not None else None


def parcels_of(conn: Connection, order_id: str) -> list[Parcel]:
    """The order's parcels as its answer shows them, oldest first."""
    return [Parcel(*row) for row in conn.execute(
        select(SHIPMENTS.c.shipment_id, SHIPMENTS.c.fc_id, SHIPMENTS.c.status,
               SHIPMENTS.c.carrier, SHIPMENTS.c.tracking_number)
        .where(SHIPMENTS.c.order_id == order_id)
        .order_by(SHIPMENTS.c.created_at, SHIPMENTS.c.shipment_id))]


def units_of(conn: Connection, order_id: str) -> list[tuple[str, str, int, int]]:
    """(shipment id, sku, quantity, missing) of each of the order's pick lines, by SKU."""
    return [(r.shipment_id, r.sku, r.quantity, r.missing) for r in conn.execute(
        select(PICK_LINES.c.shipment_id, PICK_LINES.c.sku, PICK_LINES.c.quantity,
               PICK_LINES.c.missing)
        .where(PICK_LINES.c.order_id == order_id).order_by(PICK_LINES.c.sku))]


def one_packing(conn: Connection, order_id: str) -> str | None:
    """A shipment of the order being packed or packed, if any."""
    return conn.scalar(select(SHIPMENTS.c.shipment_id).where(
        SHIPMENTS.c.order_id == order_id,
        SHIPMENTS.c.status.in_(["packing", "packed"])).limit(1))


def started_at(conn: Connection, order_id: str) -> set[str]:
    """FCs where picking of the order began: a shipment past pending, or a line in a task.

    The queued lines are locked, which keeps pickers (SKIP LOCKED) from claiming them meanwhile.
    """
    in_task = {r.fc_id for r in conn.execute(
        select(PICK_LINES.c.fc_id, PICK_LINES.c.task_id)
        .where(PICK_LINES.c.order_id == order_id).with_for_update())
        if r.task_id is not None}
    return in_task | {r.fc_id for r in conn.execute(
        select(SHIPMENTS.c.fc_id, SHIPMENTS.c.status).where(
            SHIPMENTS.c.order_id == order_id, SHIPMENTS.c.status != "cancelled"))
        if r.status != "pending"}


def packed_lines(conn: Connection, shipment_id: str) -> list[rules.PackedLine]:
    """The shipment's pick lines as packing weighs and values them."""
    rows = conn.execute(
        select(PICK_LINES).where(PICK_LINES.c.shipment_id == shipment_id)
        .order_by(PICK_LINES.c.sku, PICK_LINES.c.line_id))
    return [rules.PackedLine(r.sku, r.quantity, r.picked, r.missing, r.weight_grams,
                             r.unit_price_minor) for r in rows]


def begin_packing(conn: Connection, shipment_id: str, weight_grams: int, box: str,
                  value_minor: int, carrier_cost_minor: int, cod_due_minor: int,
                  now: datetime) -> None:
    """The shipment passed the weight gate: packing, with what it weighs and is worth."""
    conn.execute(update(SHIPMENTS).where(SHIPMENTS.c.shipment_id == shipment_id).values(
        status="packing", weight_grams=weight_grams, box=box, value_minor=value_minor,
        carrier_cost_minor=carrier_cost_minor, cod_due_minor=cod_due_minor, updated_at=now))


def mark_packed(conn: Connection, shipment_id: str, now: datetime) -> None:
    conn.execute(update(SHIPMENTS).where(SHIPMENTS.c.shipment_id == shipment_id).values(
        status="packed", packed_at=now, updated_at=now))


def touch(conn: Connection, shipment_id: str, now: datetime) -> None:
    """Renew the lease (updated_at) on a shipment being packed."""
    conn.execute(update(SHIPMENTS).where(SHIPMENTS.c.shipment_id == shipment_id)
                 .values(updated_at=now))


def record_carrier(conn: Connection, shipment_id: str, tracking_number: str, carrier: str,
                   service: str, now: datetime) -> None:
    """The carrier's booking, unless one is recorded already."""
    conn.execute(
        update(SHIPMENTS).where(SHIPMENTS.c.shipment_id == shipment_id,
                                SHIPMENTS.c.tracking_number.is_(None))
        .values(tracking_number=tracking_number, carrier=carrier, service=service,
                updated_at=now))


def record_label(conn: Connection, shipment_id: str, pdf: bytes, zpl: str,
                 now: datetime) -> None:
    """The label, unless one is stored already."""
    conn.execute(
        update(SHIPMENTS).where(SHIPMENTS.c.shipment_id == shipment_id,
                                SHIPMENTS.c.label_pdf.is_(None))
        .values(label_pdf=pdf, label_zpl=zpl, updated_at=now))


def claim_packing(conn: Connection, idle_before: datetime | None, now: datetime,
                  limit: int) -> tuple[list[str], int]:
    """Shipments left "packing" (idle since `idle_before` or handed back; or all), their lease
    renewed; and how many of them were another replica's lapsed lease (takeovers)."""
    lapsed = (SHIPMENTS.c.updated_at > SHIPMENTS.c.created_at).label("lapsed")
    # The status as a literal: the partial index of the shipments "packing" serves it (on
    # PostgreSQL too, whose generic plan for a parameter could not use it); migration 0011.
    stmt = select(SHIPMENTS.c.shipment_id, lapsed).where(
        SHIPMENTS.c.status == literal_column("'packing'"))
    if idle_before is not None:
        stmt = stmt.where(or_(SHIPMENTS.c.updated_at < idle_before,
                              SHIPMENTS.c.updated_at <= SHIPMENTS.c.created_at))
    rows = conn.execute(
        stmt.order_by(SHIPMENTS.c.updated_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    ids = [r.shipment_id for r in rows]
    if ids:
        conn.execute(update(SHIPMENTS).where(SHIPMENTS.c.shipment_id.in_(ids))
                     .values(updated_at=now))
    return ids, 0 if idle_before is None else sum(1 for r in rows if r.lapsed)


def renew_packing(conn: Connection, shipment_ids: list[str], now: datetime) -> int:
    """Renew the leases (updated_at) of these shipments while they are packing; how many."""
    renewed = 0
    for i in range(0, len(shipment_ids), 500):
        renewed += int(conn.execute(update(SHIPMENTS).where(
            SHIPMENTS.c.shipment_id.in_(shipment_ids[i:i + 500]),
            SHIPMENTS.c.status == "packing",
        ).values(updated_at=now)).rowcount)
    return renewed


def release_packing(conn: Connection, shipment_ids: list[str]) -> int:
    """Hand these packings back; how many.

    updated_at goes back to created_at, where no lease ever is (packing begins after the
    shipment is queued and every step renews it): the next scan of any replica claims it at
    once, and not as a takeover of a lapsed lease.
    """
    released = 0
    for i in range(0, len(shipment_ids), 500):
        released += int(conn.execute(update(SHIPMENTS).where(
            SHIPMENTS.c.shipment_id.in_(shipment_ids[i:i + 500]),
            SHIPMENTS.c.status == "packing",
        ).values(updated_at=SHIPMENTS.c.created_at)).rowcount)
    return released
