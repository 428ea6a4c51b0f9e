"""What the event hub asks the database to send events in id order across replicas.

PostgreSQL hands out event ids at insert, not at commit: replica A's event 9 may commit after
replica B's event 10. A watcher resumes after the last event id it saw, so no stream may show
10 before 9 has committed or is known never to commit (a transaction that rolled back). A
missing id can only belong to a transaction running when it was found missing (its id was
taken before a higher one committed); once every transaction of this database that was
running then has ended, an id still missing never comes. The transactions running are
`pg_stat_activity.backend_xid` of this database. On SQLite (one writer) ids commit in order.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.persistence.models import OrderEvent
from core.service import events

# The ids of the newest events looked at for holes when the hub starts from "now".
START_WINDOW = 1000


def running(session: Session) -> frozenset[int] | None:
    """The ids of this database's transactions in progress (others than this one); None on a
    database that commits ids in order (SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    rows = session.execute(text(
        "SELECT backend_xid::text::bigint FROM pg_stat_activity WHERE datname = "
        "current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"))
    return frozenset(int(r[0]) for r in rows)


def after(session: Session, last_event_id: int, limit: int
          ) -> tuple[list[OrderEvent], frozenset[int] | None]:
    """Events after last_event_id, then the transactions running (read after them: any that
    holds an id missing from the events is among them)."""
    batch = events.after(session, last_event_id, limit)
    return batch, running(session) if batch else None


def by_ids(session: Session, event_ids: list[int]
           ) -> tuple[list[OrderEvent], frozenset[int] | None]:
    """The transactions running, then the events among these ids that have committed (read
    in this order: a transaction that ended before the read of the ids has its event read)."""
    now = running(session)
    return events.by_ids(session, event_ids), now


def start(session: Session) -> tuple[int, int, frozenset[int] | None]:
    """(the newest event id, the id before the lowest hole among the newest events, the
    transactions running): every id up to the first is committed or never will be once those
    transactions have ended; up to the second, as far as it can be seen now."""
    newest = events.last_event_id(session)
    now = running(session)
    if not now:
        return newest, newest, now
    ids = set(session.scalars(text(
        "SELECT event_id FROM order_events WHERE event_id > :low").bindparams(
            low=newest - START_WINDOW)))
    low = max(1, newest - START_WINDOW + 1)
    hole = next((i for i in range(low, newest + 1) if i not in ids), newest + 1)
    return newest, hole - 1, now
