"""The outbox consumers' positions (the outbox_positions table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from core.persistence.tables import OUTBOX_POSITIONS

_P = OUTBOX_POSITIONS.c


def position(conn: Connection, consumer: str, lock: bool) -> int | None:
    """The consumer's position (None: it never ran); `lock`: held until the transaction ends,
    so a second replica running the same consumer waits and then reads the moved position."""
    stmt = select(_P.position).where(_P.consumer == consumer)
    if lock:
        stmt = stmt.with_for_update()  # (SQLite: its one writer already serializes)
    return conn.scalar(stmt)


def open_at(conn: Connection, consumer: str, position: int, now: datetime) -> None:
    """Create the consumer's position unless it exists (replicas starting at once)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(OUTBOX_POSITIONS)
                 .values(consumer=consumer, position=position, updated_at=now)
                 .on_conflict_do_nothing(index_elements=["consumer"]))


def move(conn: Connection, consumer: str, expected: int, to: int, now: datetime) -> bool:
    """Move the position from `expected` to `to`; False when it is no longer `expected`
    (another replica moved it)."""
    return conn.execute(update(OUTBOX_POSITIONS).where(
        _P.consumer == consumer, _P.position == expected,
    ).values(position=to, updated_at=now)).rowcount == 1
