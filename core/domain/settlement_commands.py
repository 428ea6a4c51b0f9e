"""Commands of settlement: the gateway paid captured money out; reconciled COD is settled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.commands import Command


@dataclass(frozen=True, slots=True)
class MarkSettled(Command[list[str]]):
    """The gateway settled these captures in one batch: their orders are settled (once);
    answers the orders settled."""

    capture_ids: tuple[str, ...]
    batch_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class SettleReconciledCod(Command[list[str]]):
    """Settle the cash-on-delivery orders whose carriers' remittances reconcile; answers the
    orders settled."""

    now: datetime
