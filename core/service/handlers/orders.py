"""Commands of the order aggregate that answer with service records, and the handlers of all
the order's commands (the others are in core/domain/order_commands.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.domain.commands import Command, PlaceOrder
from core.domain.order_commands import RequestCancel
from core.domain.saga import SagaState
from core.service import orders
from core.service.deps import Deps
from core.service.handlers import Handler
from core.service.orders import OrderSnapshot
from core.service.saga_steps import state_of

# The order as PlaceOrder answers it, and its saga's first state (None for a retry, whose
# saga is already under way).
Placed = tuple[OrderSnapshot, SagaState | None]


@dataclass(frozen=True, slots=True)
class PlaceOrderAt(Command[Placed]):
    """Store a storefront's order, placed at `now` (a retry of the same request answers the
    order it placed).

    The order itself (core/domain/commands.py's PlaceOrder) is also what QuoteOrder prices;
    this command lives here because its answer is the order service's snapshot, which the
    pure domain may not name.
    """

    order: PlaceOrder
    now: datetime


def place_order(session: Session, cmd: PlaceOrderAt, deps: Deps) -> Placed:
    snap, created = orders.place_order(session, cmd.order, deps.config.orders, cmd.now)
    return snap, state_of(snap.order) if created else None


def request_cancel(session: Session, cmd: RequestCancel, deps: Deps) -> None:
    orders.request_cancel(session, cmd.order_id, cmd.reason, cmd.storefront, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    PlaceOrderAt: place_order,
    RequestCancel: request_cancel,
}
