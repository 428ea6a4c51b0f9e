"""Handlers of the order aggregate's commands."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.domain.order_commands import RequestCancel
from core.service import orders
from core.service.deps import Deps


def request_cancel(session: Session, cmd: RequestCancel, deps: Deps) -> None:
    orders.request_cancel(session, cmd.order_id, cmd.reason, cmd.storefront, cmd.now)


HANDLERS = {
    RequestCancel: request_cancel,
}
