"""Handlers of the outbox consumers' commands (core/domain/outbox_commands.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.domain.outbox_commands import (
    AdvanceTableConsumer,
    ConsumerProgress,
    MoveConsumerPosition,
    OpenConsumers,
)
from core.service import outbox
from core.service.deps import Deps
from core.service.handlers import Handler


def open_consumers(session: Session, cmd: OpenConsumers, deps: Deps) -> None:
    outbox.open_consumers(session, cmd.names, cmd.now)


def advance(session: Session, cmd: AdvanceTableConsumer, deps: Deps) -> ConsumerProgress:
    fan_out = outbox.table_consumers(deps.config.extra_consumers)[cmd.name]
    return outbox.advance(session, cmd.name, fan_out, cmd.gaps, cmd.limit, cmd.now)


def move(session: Session, cmd: MoveConsumerPosition, deps: Deps) -> bool:
    return outbox.move(session, cmd.name, cmd.expected, cmd.to, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    OpenConsumers: open_consumers,
    AdvanceTableConsumer: advance,
    MoveConsumerPosition: move,
}
