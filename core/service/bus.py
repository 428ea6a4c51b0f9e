"""The one registry of command handlers: every change to the database is a command handled here.

A command (core/domain/commands.py's `Command`) names a use case; its handler, found by the
command's type, runs inside a write transaction that the caller's executor opened
(server/dbexec.py). To add a use case: a frozen dataclass command, a handler in
core/service/handlers/<aggregate>.py, and its line in that module's HANDLERS. The command lives
in core/domain/<aggregate>_commands.py when its fields and answer are the domain's own types;
one that answers with a service's record (a snapshot, a stored row) lives beside its handler,
since the pure domain may not import the layers above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.service.deps import Deps
from core.service.handlers import (
    Handler,
    catalog,
    leases,
    notifications,
    orders,
    outbox,
    packing,
    picking,
    routing,
    saga,
    settlement,
    shipping,
    webhooks,
)

R = TypeVar("R")


def _gather(*tables: Mapping[type[Any], Handler]) -> dict[type[Any], Handler]:
    registry: dict[type[Any], Handler] = {}
    for table in tables:
        for kind, handler in table.items():
            if kind in registry:
                raise RuntimeError(f"{kind.__name__} has two handlers")
            registry[kind] = handler
    return registry


HANDLERS: dict[type[Any], Handler] = _gather(
    orders.HANDLERS,
    saga.HANDLERS,
    catalog.HANDLERS,
    picking.HANDLERS,
    packing.HANDLERS,
    routing.HANDLERS,
    shipping.HANDLERS,
    settlement.HANDLERS,
    leases.HANDLERS,
    notifications.HANDLERS,
    webhooks.HANDLERS,
    outbox.HANDLERS,
)


def handle(session: Session, cmd: Command[R], deps: Deps) -> R:
    """Run `cmd`'s handler in the open transaction of `session`; its answer."""
    try:
        handler = HANDLERS[type(cmd)]
    except KeyError:
        raise TypeError(f"no handler for the command {type(cmd).__qualname__}: add one to "
                        "core/service/handlers/ and its HANDLERS") from None
    result: R = handler(session, cmd, deps)
    return result
