"""Pick tasks: claiming queued pick lines for a picker, and scans that hard-lock units.

A line is claimed by setting its `task_id`, under `FOR UPDATE SKIP LOCKED` on PostgreSQL (two
pickers asking at once lock disjoint lines; SQLite's single writer serializes them), so no
line is ever handed to two pickers. Each scan is stored by its `scan_id` with the reply it got:
a scan retried over a flaky link counts once and gets the same answer.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.binpath import walk_key
from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.totes import tote_code
from core.persistence.repos import picking as repo
from core.persistence.repos.picking import (
    ABANDONED,
    LIVE_ORDER,
    OPEN,
    LineCount,
    OrderRef,
    PickTaskRecord,
    ScanLine,
    TaskLine,
)
from core.service import events
from core.service.totes import next_tote_number

# A task being scanned is marked touched at most this often (its abandonment is measured in
# minutes; a touch per scan was a statement in nine).
TOUCH_EVERY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class PickSettings:
    """How big a task is, and how long it may sit untouched before it returns to the queue."""

    batch_orders: int = 4
    batch_lines: int = 20
    task_timeout_s: float = 600.0


@dataclass(frozen=True, slots=True)
class LineView:
    line_id: str
    order_id: str
    sku: str
    gtin: str
    bin: str
    quantity: int
    picked: int
    missing: int
    name: str = ""  # the product's name, as the catalog has it


@dataclass(frozen=True, slots=True)
class TaskView:
    task_id: str
    fc_id: str
    lines: list[LineView]
    confirm_bin_scan: bool = False
    tote_code: str = ""  # the tote's printed code, "T-0042"


def requeue_abandoned(conn: Connection, fc_id: str, now: datetime, timeout_s: float) -> int:
    """Tasks untouched for timeout_s are abandoned: their unfinished lines go back to the queue."""
    cutoff = now - timedelta(seconds=timeout_s)
    requeued = 0
    for task_id in repo.stale_task_ids(conn, fc_id, cutoff):
        # Compare-and-set: a scan that touched the task meanwhile keeps it open.
        if repo.abandon(conn, task_id, cutoff):
            requeued += repo.requeue_unfinished(conn, task_id)
    return requeued


def next_pick_task(
    session: Session, fc_id: str, picker: str, settings: PickSettings, now: datetime
) -> TaskView:
    """Claim queued lines of up to batch_orders orders / batch_lines lines as a new task."""
    if not fc_id:
        raise InvalidArgument("fc_id is required: the FC whose queue to pick from",
                              field="fc_id")
    conn = session.connection()
    requeue_abandoned(conn, fc_id, now, settings.task_timeout_s)
    chosen: list[repo.QueuedLine] = []
    orders: list[str] = []
    for row in repo.queued_lines(conn, fc_id, max(settings.batch_lines, 1)):
        if row.order_id not in orders:
            if len(orders) >= max(settings.batch_orders, 1):
                break
            orders.append(row.order_id)
        chosen.append(row)
    if not chosen:
        raise NotFound(f"nothing is waiting to be picked at {fc_id[:64]}; ask again in a moment")
    task_id, tote_no = new_id("pt"), next_tote_number(conn)
    repo.insert_task(conn, PickTaskRecord(task_id, fc_id, picker[:128], OPEN, now, now, tote_no))
    ids = [row.line_id for row in chosen]
    if repo.claim(conn, ids, task_id) != len(ids):
        # Cannot happen under the row locks; never hand out a line twice.
        raise Unavailable("another picker claimed these lines at the same moment; ask again")
    # The seed has no "picking started" event: the order's status says it, Item_Picked follows.
    repo.orders_to_picking(conn, orders, now)
    repo.shipments_to_picking(conn, {row.shipment_id for row in chosen}, now)
    lines = sorted(repo.task_lines(conn, task_id), key=_walk)
    return TaskView(task_id, fc_id, [_view(line) for line in lines],
                    repo.confirms_bin_scan(conn, fc_id), tote_code(tote_no))


def task_fc(session: Session, task_id: str) -> str:
    """The FC of a task (NOT_FOUND when there is no such task)."""
    fc_id = repo.task_fc(session.connection(), task_id)
    if fc_id is None:
        raise NotFound(f"no pick task {task_id[:64]!r}; ask for one with NextPickTask")
    return fc_id


# A bin's place on the walk never changes; each scan sorts its task's bins again.
_walk_key = functools.lru_cache(maxsize=65_536)(walk_key)


def _walk(line: TaskLine) -> tuple[tuple[object, ...], str]:
    """A line's place on the picker's walk (its bin's, then its id)."""
    return (_walk_key(line.bin), line.line_id)


def line_dict(v: LineView) -> dict[str, Any]:
    """A LineView as the reply stores it (what dataclasses.asdict gives, without its walk)."""
    return {"line_id": v.line_id, "order_id": v.order_id, "sku": v.sku, "gtin": v.gtin,
            "bin": v.bin, "quantity": v.quantity, "picked": v.picked, "missing": v.missing,
            "name": v.name}


def _view(line: TaskLine) -> LineView:
    return LineView(line.line_id, line.order_id, line.sku, line.gtin, line.bin, line.quantity,
                    line.picked, line.missing, line.name or "")


def is_open(line: TaskLine | LineView | LineCount) -> bool:
    return line.picked + line.missing < line.quantity


def is_live(line: TaskLine) -> bool:
    """The line's order still wants it (not cancelled, no cancellation under way)."""
    return (line.shipment_status != "cancelled" and line.order_status in LIVE_ORDER
            and line.cancel_requested is None)


def lock_task(conn: Connection, task_id: str) -> PickTaskRecord:
    """The task under lock (FOR UPDATE on PostgreSQL: its scans go one at a time)."""
    task = repo.lock_task(conn, task_id)
    if task is None:
        raise NotFound(f"no pick task {task_id[:64]!r}; ask for one with NextPickTask")
    return task


def require_open(task: PickTaskRecord) -> None:
    """FAILED_PRECONDITION unless the task is still being picked."""
    task_id = task.task_id
    if task.status == ABANDONED:
        raise FailedPrecondition(
            f"pick task {task_id} was abandoned (untouched too long) and its lines went back "
            "to the queue; ask for a new task with NextPickTask")
    if task.status != OPEN:
        raise FailedPrecondition(f"pick task {task_id} is {task.status}: nothing left to pick")


def gtin14(code: str) -> str | None:
    """A GTIN-8/12/13/14 as 14 digits (a UPC-A, EAN-13 or GTIN-14 of one item read alike)."""
    code = code.strip()
    if code.isascii() and code.isdigit() and len(code) in (8, 12, 13, 14):
        return code.zfill(14)
    return None


_gtin14 = functools.lru_cache(maxsize=65_536)(gtin14)


def check_operator(operator_id: str) -> str | None:
    """The badge a handheld signed in with, as stored (None: an older handheld sent none)."""
    if not operator_id:
        return None
    if len(operator_id) > 128 or not operator_id.isprintable():
        raise InvalidArgument("operator_id must be at most 128 printable characters: the badge "
                              "the picker signed in with", field="operator_id")
    return operator_id


def _check_scan(task_id: str, barcode: str, scan_id: str) -> None:
    if not task_id:
        raise InvalidArgument("task_id is required", field="task_id")
    if not scan_id or len(scan_id) > 128:
        raise InvalidArgument("scan_id must be 1..128 characters: a fresh id per scan, the same "
                              "id when a scan is retried", field="scan_id")
    if not barcode.strip() or len(barcode) > 64:
        raise InvalidArgument("barcode must be 1..64 characters", field="barcode")


def scan_item(
    session: Session, task_id: str, barcode: str, scan_id: str, operator_id: str,
    now: datetime, check_prior: bool = True,
) -> dict[str, Any]:
    """Hard-lock one unit of the first open line (walk order) whose GTIN the barcode reads.

    Returns the reply {"line": LineView fields, "task_complete": bool}, stored with the scan
    and the operator's badge (the audit trail): a plain dict because it is stored as JSON and
    a retried scan gets it back as stored. A scan_id seen before gets its first reply.
    check_prior=False skips looking for it first (most scans are new): a repeated scan_id then
    fails the scan's INSERT (IntegrityError, nothing changes) and the caller asks again with
    check_prior=True; a refusal is still checked against an earlier scan before it is raised.
    """
    _check_scan(task_id, barcode, scan_id)
    operator = check_operator(operator_id)
    conn = session.connection()
    task = lock_task(conn, task_id)
    if check_prior and (earlier := _replay(conn, scan_id, task_id, barcode)) is not None:
        return earlier
    try:
        return _scan(conn, task, task_id, barcode, scan_id, operator, now)
    except FailedPrecondition:
        if not check_prior and (earlier := _replay(conn, scan_id, task_id, barcode)) is not None:
            return earlier
        raise


def _replay(conn: Connection, scan_id: str, task_id: str, barcode: str) -> dict[str, Any] | None:
    """The reply an earlier scan with this scan_id got (None: a new scan_id)."""
    prior = repo.prior_scan(conn, scan_id)
    if prior is None:
        return None
    if prior.task_id == task_id and prior.barcode == barcode:
        return dict(prior.reply)
    raise FailedPrecondition(
        f"scan_id {scan_id!r} was already used for barcode {prior.barcode} in task "
        f"{prior.task_id}; send a new scan_id for each scan")


def _scan(conn: Connection, task: PickTaskRecord, task_id: str, barcode: str, scan_id: str,
          operator: str | None, now: datetime) -> dict[str, Any]:
    require_open(task)
    # The task's open lines (read under its lock); only the few whose GTIN the barcode reads
    # are put in walk order: a right scan sorts nothing else.
    lines = repo.open_scan_lines(conn, task_id)
    wanted = gtin14(barcode)
    matching = sorted((ln for ln in lines if _gtin14(ln.gtin) == wanted), key=_walk
                      ) if wanted else []
    live = [ln for ln in matching if is_live(ln)]
    if not live:
        if matching:
            ln = matching[0]
            raise FailedPrecondition(f"order {ln.order_id} was cancelled: put the item back in "
                                     f"bin {ln.bin} (SKU {ln.sku})")
        expected = min((ln for ln in lines if is_live(ln)), key=_walk, default=None)
        if expected is None:
            raise FailedPrecondition(f"pick task {task_id} has nothing left to pick; "
                                     f"scanned {barcode[:64]}")
        raise FailedPrecondition(f"expected GTIN {expected.gtin} (SKU {expected.sku}) from bin "
                                 f"{expected.bin}; scanned {barcode[:64]}")
    line = live[0]
    _hard_lock_one(conn, line)
    events.record(conn, _order_of(line), EventType.ITEM_PICKED, now,
                  f"1×{line.sku} from bin {line.bin} ({line.picked + 1}/{line.quantity})")
    # The task's lines as they are now: the ones read above, this one a unit further — no
    # need to read them again.
    picked = replace(_view(line), picked=line.picked + 1)
    others = [ln for ln in lines if ln.line_id != line.line_id]  # (the open ones)
    if not any(ln.shipment_id == line.shipment_id for ln in others):
        close_shipment_if_done(conn, line.shipment_id, now)  # (else a line of it is still open)
    complete = not is_open(picked) and not any(is_live(ln) for ln in others)
    if complete or now - task.touched_at >= TOUCH_EVERY:
        mark_touched(conn, task_id, now, complete)
    reply = {"line": line_dict(picked), "task_complete": complete}
    repo.insert_scan(conn, scan_id, task_id, line.line_id, barcode, operator, reply, now)
    return reply


def _order_of(line: ScanLine) -> OrderRef:
    """The line's order as its event records it (read with the line)."""
    return OrderRef(line.order_id, line.order_status, line.order_fc_id, line.storefront,
                    line.cancel_requested)


def _hard_lock_one(conn: Connection, line: TaskLine) -> None:
    """One unit: picked on the line, soft → hard on the order's lock and on the FC's stock."""
    if not repo.hard_lock_one(conn, line):
        # Raising rolls the whole scan back: nothing changes.
        raise FailedPrecondition(
            f"order {line.order_id} holds no soft-locked {line.sku} at {line.fc_id} to "
            "pick; put the item back and ask a supervisor")


def close_shipment_if_done(conn: Connection, shipment_id: str, now: datetime) -> None:
    """Every line picked or short: the shipment is "picked" (or "cancelled" if none was)."""
    rows = repo.shipment_line_counts(conn, shipment_id)
    if any(is_open(r) for r in rows):
        return
    repo.close_shipment(conn, shipment_id, "picked" if any(r.picked for r in rows)
                        else "cancelled", now)


def touch_task(conn: Connection, task_id: str, now: datetime) -> bool:
    """The picker is active on the task; it is done when no line is left to pick."""
    complete = not any(is_open(ln) and is_live(ln) for ln in repo.task_lines(conn, task_id))
    mark_touched(conn, task_id, now, complete)
    return complete


def mark_touched(conn: Connection, task_id: str, now: datetime, complete: bool) -> None:
    """The task was worked on now (and is done, when complete)."""
    repo.mark_touched(conn, task_id, now, complete)


def line_reply(conn: Connection, task_id: str, line_id: str, complete: bool) -> dict[str, Any]:
    """The reply shape of ScanItem / ReportShortPick for one line."""
    line = repo.task_line(conn, task_id, line_id)
    if line is None:
        raise NotFound(f"line {line_id[:64]!r} is not in pick task {task_id}")
    return {"line": asdict(_view(line)), "task_complete": complete}
