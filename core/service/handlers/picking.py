"""Commands of picking (claiming a task, scanning a unit, reporting a short pick) and their
handlers.

They live beside their handlers, not in core/domain: NextPickTask's answer and its settings are
the picking service's records, which the pure domain may not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.service import picking, short_pick
from core.service.deps import Deps
from core.service.handlers import Handler
from core.service.picking import PickSettings, TaskView


@dataclass(frozen=True, slots=True)
class NextPickTask(Command[TaskView]):
    """A picker claims queued lines of the FC as a new task."""

    fc_id: str
    picker: str
    settings: PickSettings
    now: datetime


@dataclass(frozen=True, slots=True)
class ScanItem(Command[dict[str, Any]]):
    """One unit scanned into the tote: hard-locks it on the first open line it matches.

    `check_prior`: look for an earlier scan with this scan_id first (a retry); without it the
    scan's INSERT finds a repeated scan_id (IntegrityError), which is faster for new scans.
    """

    task_id: str
    barcode: str
    scan_id: str
    operator_id: str
    now: datetime
    check_prior: bool


@dataclass(frozen=True, slots=True)
class ReportShortPick(Command[tuple[dict[str, Any], str | None]]):
    """`missing` units of the line are not in the bin (the line's total); the answer's second
    item is an order to cancel when none of its units can be found elsewhere."""

    task_id: str
    line_id: str
    missing: int
    operator_id: str
    now: datetime


def next_pick_task(session: Session, cmd: NextPickTask, deps: Deps) -> TaskView:
    return picking.next_pick_task(session, cmd.fc_id, cmd.picker, cmd.settings, cmd.now)


def scan_item(session: Session, cmd: ScanItem, deps: Deps) -> dict[str, Any]:
    return picking.scan_item(session, cmd.task_id, cmd.barcode, cmd.scan_id, cmd.operator_id,
                             cmd.now, cmd.check_prior)


def report_short_pick(session: Session, cmd: ReportShortPick, deps: Deps,
                      ) -> tuple[dict[str, Any], str | None]:
    return short_pick.report_short_pick(session, cmd.task_id, cmd.line_id, cmd.missing,
                                        cmd.operator_id, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    NextPickTask: next_pick_task,
    ScanItem: scan_item,
    ReportShortPick: report_short_pick,
}
