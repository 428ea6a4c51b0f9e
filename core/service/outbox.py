"""Outbox consumers: each reads order_events from a durable position of its own.

A *table consumer* is a use case `fan_out(session, events, now)` that turns events into rows
of its own table (webhook deliveries, notification messages). It is called inside ONE write
transaction that also moves its position past those events (`advance`), so its rows are
committed exactly once with the position. It must be idempotent anyway (a unique key, inserted
with "do nothing on conflict" through its repository) and must not call out: the sending is
done afterwards by its own worker, which claims due rows from its table.

An *outside* consumer (the NATS relay, server/relay.py) reads `pending` events, has the
outside world acknowledge them, then moves its position (`move`): at least once, with the
outside world de-duplicating by event id.

Either way the position moves past an event id only once every lower id has committed or is
known never to commit: PostgreSQL hands ids out at insert, not at commit, and a lower id may
commit after a higher one (core/service/event_order.py, the mechanism WatchOrders uses too).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.domain.outbox_commands import ConsumerProgress, Gaps
from core.persistence.models import OrderEvent
from core.persistence.repos import outbox as repo
from core.service import event_order, events, notifications, webhooks

FanOut = Callable[[Session, Sequence[OrderEvent], datetime], None]

# name -> fan_out; the name keys the consumer's position (and its worker lease).
TABLE_CONSUMERS: dict[str, FanOut] = {
    "notifications": notifications.fan_out,  # customer messages (server/notifier.py)
    "webhooks": webhooks.fan_out,  # storefront webhooks' deliveries (server/storefront_hooks.py)
}

# The name of the NATS relay's position (an outside consumer, not a table consumer).
NATS_RELAY = "nats"


@dataclass(frozen=True, slots=True)
class Pending:
    """The events a consumer may handle next, and where its position goes once it has."""

    events: list[OrderEvent]
    position: int  # where it stands
    upto: int  # where it stands once `events` are handled
    newest: int  # the newest event id committed
    gaps: Gaps  # ids missing above `upto`: the events after them wait
    more: bool  # a full batch: more events wait behind it


@functools.cache
def table_consumers(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, FanOut]:
    """TABLE_CONSUMERS and the extra ones, (name, "module:function"), resolved (a test adds
    one this way: it must be found in the SQLite writer's process too)."""
    found = dict(TABLE_CONSUMERS)
    for name, spec in extra:
        module, _, function = spec.partition(":")
        found[name] = getattr(importlib.import_module(module), function)
    return found


def open_consumers(session: Session, names: Sequence[str], now: datetime) -> None:
    """Give each consumer without a position one at the newest event: it starts from now. An
    id below it still uncommitted (PostgreSQL) puts the start just below the lowest hole."""
    newest, below_hole, running = event_order.start(session)
    start = below_hole if running else newest
    for name in names:
        repo.open_at(session.connection(), name, start, now)


def pending(session: Session, name: str, gaps: Gaps, limit: int, lock: bool = False
            ) -> Pending:
    """The next events after the consumer's position, up to the first id that may still
    commit. `gaps`: the ids the previous batch found missing (and who was running then)."""
    position = repo.position(session.connection(), name, lock)
    if position is None:
        raise LookupError(f"outbox consumer {name!r} has no position (OpenConsumers first)")
    # Who runs is read before the events: a missing id whose transactions (noticed then)
    # have all ended by now has committed — and is among the events read next — or never will.
    before = event_order.running(session)
    batch = events.after(session, position, limit)
    if not batch:
        return Pending([], position, position, position, (), False)
    # ... and again after them: a transaction holding an id newly found missing is running.
    after = event_order.running(session)
    known = dict(gaps)
    by_id = {e.event_id: e for e in batch}
    taken: list[OrderEvent] = []
    upto = position
    waiting: list[tuple[int, frozenset[int] | None]] = []
    for event_id in range(position + 1, batch[-1].event_id + 1):
        event = by_id.get(event_id)
        if event is not None:
            if not waiting:
                taken.append(event)
                upto = event_id
            continue
        if after is None:  # SQLite: ids commit in order, a missing one never comes
            if not waiting:
                upto = event_id
            continue
        noticed = known.get(event_id, after)
        if event_id in known and event_order.Gap(0.0, noticed).ended(before):
            if not waiting:
                upto = event_id  # rolled back: never comes
            continue
        waiting.append((event_id, noticed))
    newest = max(batch[-1].event_id, events.last_event_id(session))
    return Pending(taken, position, upto, newest, tuple(waiting),
                   len(batch) == limit and not waiting)


def advance(session: Session, name: str, fan_out: FanOut, gaps: Gaps, limit: int,
            now: datetime) -> ConsumerProgress:
    """Hand the next events to the table consumer and move its position past them."""
    batch = pending(session, name, gaps, limit, lock=True)
    if batch.events:
        fan_out(session, batch.events, now)
    if batch.upto != batch.position:
        repo.move(session.connection(), name, batch.position, batch.upto, now)
    return ConsumerProgress(len(batch.events), batch.upto, batch.newest, batch.gaps, batch.more)


def move(session: Session, name: str, expected: int, to: int, now: datetime) -> bool:
    """An outside consumer's events up to `to` were acknowledged: move its position there."""
    return repo.move(session.connection(), name, expected, to, now)


def position(session: Session, name: str) -> int | None:
    """Where the consumer stands (None: it never ran)."""
    return repo.position(session.connection(), name, lock=False)
