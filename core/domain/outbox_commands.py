"""Commands of the outbox consumers: each reads order_events from its durable position
(core/service/outbox.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.commands import Command

# Event ids found missing above a consumer's position, each with the database transactions
# running when it was noticed (one of them holds it, if any does): core/service/event_order.py.
Gaps = tuple[tuple[int, frozenset[int] | None], ...]


@dataclass(frozen=True, slots=True)
class ConsumerProgress:
    """Where a consumer stands after a batch."""

    handled: int  # events handed to the consumer in this batch
    position: int  # every event id up to this one is handled (or never committed)
    newest: int  # the newest event id committed (lag: newest - position)
    gaps: Gaps  # ids still missing above the position: the consumer waits for them
    more: bool  # the batch was full: run again at once


@dataclass(frozen=True, slots=True)
class OpenConsumers(Command[None]):
    """Give each consumer that has no position one at the newest event (it starts from now)."""

    names: tuple[str, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class AdvanceTableConsumer(Command[ConsumerProgress]):
    """Hand the table consumer `name` the next events after its position and move the
    position past them, in this one transaction."""

    name: str
    gaps: Gaps
    limit: int
    now: datetime


@dataclass(frozen=True, slots=True)
class MoveConsumerPosition(Command[bool]):
    """An outside consumer (the NATS relay) had events up to `to` acknowledged: move its
    position there from `expected`; False if another replica moved it meanwhile."""

    name: str
    expected: int
    to: int
    now: datetime
