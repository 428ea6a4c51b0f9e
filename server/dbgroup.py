"""Group commit: the write jobs waiting when a transaction starts run in it, one COMMIT for all.

Used by every writer: SQLite's (server/dbexec.py's thread, server/dbwriter/'s process) and
PostgreSQL's (server/dbexec.py's thread).
"""

from __future__ import annotations

import functools
import queue
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.domain.errors import Unavailable
from core.persistence import pg_pipeline
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
            session.flush()
            # PostgreSQL: the job's writes that wait for a read or the COMMIT are sent now,
            # so that their failure is this job's, inside its savepoint.
            pg_pipeline.send(session.connection(), None)
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
    except Unavailable as exc:  # the database away, or the COMMIT's outcome unknown: all fail
        return [(False, exc)] * len(group)
    except DBAPIError:
        # A statement that waited for the COMMIT (core/persistence/pg_pipeline.py) failed
        # there: which job's it was, the isolated run tells.
        pass
    except BaseException as exc:  # noqa: BLE001 - the group's commit failed: all fail
        return [(False, exc)] * len(group)
    try:
        outcomes = db.run_write_pinned(functools.partial(_run_isolated, group))
    except BaseException as exc:  # noqa: BLE001 - the group's commit failed: all fail
        return [(False, exc)] * len(group)
    # A job that met a passing failure (a deadlock with another replica's group, a conflict)
    # was rolled back to its savepoint: it runs again alone, retried as any transaction is.
    return [_alone(db, call) if not ok and db.passing(value) else (ok, value)
            for call, (ok, value) in zip(group, outcomes, strict=True)]


def _alone(db: Database, call: Callable[[Session], Any]) -> tuple[bool, Any]:
    try:
        return True, db.run_write_pinned(call)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        return False, exc
