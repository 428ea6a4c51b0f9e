"""Tote numbers: drawn for each new pick task, and looked up from a scanned tote code."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.domain.errors import InvalidArgument, NotFound
from core.domain.totes import tote_code, tote_number
from core.persistence.fulfillment_models import TOTE_NUMBERS, PickTask

TASKS = PickTask.__table__
_LAST = select(func.max(TASKS.c.tote_no))


def next_tote_number(conn: Connection) -> int:
    """A tote number no other task has or will get.

    PostgreSQL: the sequence (two replicas creating tasks at once draw different numbers
    without waiting on each other). SQLite: one writer commits at a time, so the largest
    number so far plus one is free. The unique index on tote_no backs both.
    """
    if conn.dialect.name == "postgresql":
        return int(conn.scalar(TOTE_NUMBERS.next_value()))
    return int(conn.scalar(_LAST) or 0) + 1


def task_of_tote(conn: Connection, code: str) -> str:
    """The pick task whose tote carries this code (NOT_FOUND when none does)."""
    number = tote_number(code)
    if number is None:
        raise InvalidArgument(f"tote_code {code[:32]!r} is not a tote code: it reads like "
                              "T-0042", field="tote_code")
    task_id = conn.scalar(select(TASKS.c.task_id).where(TASKS.c.tote_no == number))
    if task_id is None:
        raise NotFound(f"no tote {tote_code(number)}: scan the tote's label again")
    return str(task_id)
