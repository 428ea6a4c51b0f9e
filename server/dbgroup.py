"""Group commit: the write jobs waiting when a transaction starts run in it, one COMMIT for all.

Used by both of SQLite's writers (server/dbexec.py's thread, server/dbwriter/'s process).
"""

from __future__ import annotations

import functools
import queue
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from core.persistence.db import Database


class _JobFailed(Exception):
    """A job of a group run without savepoints failed: roll it all back, run it isolated."""


def _run_plain(group: list[Callable[[Session], Any]], session: Session) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for call in group:
        try:
            outcomes.append((True, call(session)))
            # A job's ORM changes are written before they are forgotten (expunge drops
            # anything not flushed).
            session.flush()
        except Exception as exc:
            raise _JobFailed from exc
        # Jobs mix ORM objects and SQL Core updates: no job may see another's stale
        # objects through the identity map.
        session.expunge_all()
    return outcomes


def _run_isolated(group: list[Callable[[Session], Any]], session: Session,
                  ) -> list[tuple[bool, Any]]:
    outcomes: list[tuple[bool, Any]] = []
    for call in group:
        savepoint = session.begin_nested()
        try:
            result = call(session)
            savepoint.commit()
            outcomes.append((True, result))
        except Exception as exc:  # one job's failure is its own
            savepoint.rollback()
            outcomes.append((False, exc))
        session.expunge_all()
    return outcomes


def take_group(jobs: queue.SimpleQueue[Any], first: Any, max_group: int,
               ) -> tuple[list[Any], bool]:
    """`first` and the jobs already waiting behind it (up to max_group); True when the queue's
    end (None) was among them."""
    group = [first]
    while len(group) < max_group:
        try:
            job = jobs.get_nowait()
        except queue.Empty:
            break
        if job is None:
            return group, True
        group.append(job)
    return group, False


def run_group(db: Database, group: list[Callable[[Session], Any]]) -> list[tuple[bool, Any]]:
    """Run write jobs in one transaction, one COMMIT; each job's (ok, result or exception)."""
    if len(group) == 1:
        try:
            return [(True, db.run_write_pinned(group[0]))]
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            return [(False, exc)]
    # Jobs rarely fail, so the group first runs without savepoints (two statements and
    # SQLAlchemy's nested-transaction bookkeeping per job). If one fails, that attempt is
    # rolled back whole and the group runs again with each job in its own SAVEPOINT.
    try:
        return db.run_write_pinned(functools.partial(_run_plain, group))
    except _JobFailed:
        pass
    except BaseException as exc:  # noqa: BLE001 - the group's commit failed: all fail
        return [(False, exc)] * len(group)
    try:
        return db.run_write_pinned(functools.partial(_run_isolated, group))
    except BaseException as exc:  # noqa: BLE001 - the group's commit failed: all fail
        return [(False, exc)] * len(group)
