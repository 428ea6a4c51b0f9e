"""Commands of routing (a supervisor's assignment) and their handlers.

AssignOrder lives beside its handler, not in core/domain: it answers with the order as the
order service reads it, which the pure domain may not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.service import routing
from core.service.deps import Deps
from core.service.handlers import Handler
from core.service.orders import OrderSnapshot


@dataclass(frozen=True, slots=True)
class AssignOrder(Command[OrderSnapshot]):
    """A supervisor sends an order to another FC before picking starts."""

    order_id: str
    fc_id: str
    assigned_by: str
    now: datetime


def assign_order(session: Session, cmd: AssignOrder, deps: Deps) -> OrderSnapshot:
    return routing.assign_order(session, cmd.order_id, cmd.fc_id, cmd.assigned_by, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    AssignOrder: assign_order,
}
