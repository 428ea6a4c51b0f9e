"""Commands on an order after it is placed (PlaceOrder itself is in core/domain/commands.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.commands import Command


@dataclass(frozen=True, slots=True)
class RequestCancel(Command[None]):
    """Ask the saga to cancel an order before it is packed; its compensations run after."""

    order_id: str
    reason: str
    storefront: str | None  # None: a supervisor, who may cancel any storefront's order
    now: datetime
