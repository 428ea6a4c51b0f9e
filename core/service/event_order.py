"""Reading the outbox in id order across replicas: which missing event id may still come.

PostgreSQL hands out event ids at insert, not at commit: replica A's event 9 may commit after
replica B's event 10. Whoever reads the outbox after a position (a watcher resuming after the
last event id it saw, an outbox consumer's durable position) must not move past 9 before it
has committed or is known never to commit (a transaction that rolled back). A missing id can
only belong to a transaction running when it was found missing (its id was taken before a
higher one committed); once every transaction of this database that was running then has
ended, an id still missing never comes. The transactions running are
`pg_stat_activity.backend_xid` of this database. On SQLite (one writer) ids commit in order.

One mechanism for both readers of the outbox: the event hub (server/hub.py, for WatchOrders)
and the outbox consumers (core/service/outbox.py) note each missing id as a `Gap` with the
transactions running when it was noticed, and settle it when it commits or those have ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.persistence.models import OrderEvent
from core.persistence.repos import events as repo
from core.service import events

# The ids of the newest events looked at for holes when a reader starts from "now".
START_WINDOW = 1000


@dataclass(slots=True, frozen=True)
class Gap:
    """An event id found missing: when, and the transactions running then (one of them holds
    it, if any does; None where the database cannot say)."""

    noticed: float
    running: frozenset[int] | None

    def ended(self, running_now: frozenset[int] | None) -> bool:
        """Every transaction that could commit this id has ended: it never will."""
        return (self.running is not None and running_now is not None
                and not self.running & running_now)


def missing(last: int, ids: Sequence[int]) -> list[int]:
    """The ids above `last` skipped over by `ids` (ascending, all above `last`)."""
    seen = set(ids)
    return [i for i in range(last + 1, ids[-1]) if i not in seen] if ids else []


def running(session: Session) -> frozenset[int] | None:
    """The ids of this database's transactions in progress (others than this one), as of
    now even inside a transaction that asked before; None on a database that commits ids in
    order (SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return repo.running_transactions(session)


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
    ids = repo.ids_above(session, newest - START_WINDOW)
    low = max(1, newest - START_WINDOW + 1)
    hole = next((i for i in range(low, newest + 1) if i not in ids), newest + 1)
    return newest, hole - 1, now
