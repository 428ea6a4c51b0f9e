"""Handlers of settlement's commands (core/domain/settlement_commands.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.domain.settlement_commands import MarkSettled, SettleReconciledCod
from core.service import cod, settlement
from core.service.deps import Deps
from core.service.handlers import Handler


def mark_settled(session: Session, cmd: MarkSettled, deps: Deps) -> list[str]:
    return settlement.mark_settled(session, list(cmd.capture_ids), cmd.batch_id, cmd.now)


def settle_reconciled_cod(session: Session, cmd: SettleReconciledCod, deps: Deps) -> list[str]:
    return cod.settle_all_reconciled(session, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    MarkSettled: mark_settled,
    SettleReconciledCod: settle_reconciled_cod,
}
