"""Tote numbers: drawn for each new pick task, and looked up from a scanned tote code."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from core.domain.errors import InvalidArgument, NotFound
from core.domain.totes import tote_code, tote_number
from core.persistence.repos import picking as repo


def next_tote_number(conn: Connection) -> int:
    """A tote number no other task has or will get (see repos.picking.draw_tote_number)."""
    return repo.draw_tote_number(conn)


def task_of_tote(conn: Connection, code: str) -> str:
    """The pick task whose tote carries this code (NOT_FOUND when none does)."""
    number = tote_number(code)
    if number is None:
        raise InvalidArgument(f"tote_code {code[:32]!r} is not a tote code: it reads like "
                              "T-0042", field="tote_code")
    task_id = repo.task_of_tote(conn, number)
    if task_id is None:
        raise NotFound(f"no tote {tote_code(number)}: scan the tote's label again")
    return task_id
