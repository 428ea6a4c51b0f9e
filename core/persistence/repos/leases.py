"""Named worker leases (the worker_leases table): acquire or renew with one conditional
UPDATE, so two replicas asking at once cannot both hold one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from core.persistence.tables import WORKER_LEASES


def acquire(conn: Connection, name: str, holder: str, now: datetime,
            until: datetime) -> tuple[bool, str | None]:
    """Hold `name` until `until` if it is ours or lapsed: (held, the replica whose lapsed
    lease was taken over, if any)."""
    row = conn.execute(select(WORKER_LEASES.c.holder, WORKER_LEASES.c.expires_at)
                       .where(WORKER_LEASES.c.name == name)).first()
    if row is None:
        # The first replica to ask creates the row; one that races it sees nothing inserted.
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # (RETURNING says whether it was inserted: psycopg reports no rowcount for it.)
        inserted = conn.execute(dialect.insert(WORKER_LEASES)
                                .values(name=name, holder=holder, expires_at=until)
                                .on_conflict_do_nothing(index_elements=["name"])
                                .returning(WORKER_LEASES.c.name)).first()
        return inserted is not None, None
    # The one statement that decides: PostgreSQL re-checks the WHERE on the row as committed
    # by a concurrent winner, so of two replicas taking a lapsed lease only one matches.
    won = conn.execute(update(WORKER_LEASES).where(
        WORKER_LEASES.c.name == name,
        (WORKER_LEASES.c.holder == holder) | (WORKER_LEASES.c.expires_at <= now),
    ).values(holder=holder, expires_at=until)).rowcount == 1
    taken_from = (row.holder if won and row.holder and row.holder != holder
                  and row.expires_at <= now else None)
    return won, taken_from


def release(conn: Connection, name: str, holder: str, now: datetime) -> bool:
    """Give `name` up now (a replica stopping): another may take it at once, and taking it
    is no takeover (no holder)."""
    return conn.execute(update(WORKER_LEASES).where(
        WORKER_LEASES.c.name == name, WORKER_LEASES.c.holder == holder,
    ).values(holder="", expires_at=now)).rowcount == 1
