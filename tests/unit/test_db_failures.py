"""Which database failures tote retries, which answer UNAVAILABLE, and which are bugs: the
classification in core/persistence/db.py, fed psycopg's and sqlite3's own exceptions."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors as pg
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.domain.errors import Unavailable
from core.persistence import db
from core.persistence.db import Database


def wrapped(orig: Exception, *, invalidated: bool = False) -> DBAPIError:
    """The exception SQLAlchemy raises for a driver's `orig`."""
    base = psycopg.Error if isinstance(orig, psycopg.Error) else sqlite3.Error
    return DBAPIError.instance("SELECT 1", {}, orig, base,
                               connection_invalidated=invalidated)


@pytest.mark.parametrize(("orig", "kind"), [
    (pg.SerializationFailure("could not serialize access"), db._BUSY),
    (pg.DeadlockDetected("deadlock detected"), db._BUSY),
    (pg.AdminShutdown("terminating connection due to administrator command"), db._LOST),
    (pg.CannotConnectNow("the database system is starting up"), db._LOST),
    (pg.TooManyConnections("sorry, too many clients already"), db._LOST),
    (pg.QueryCanceled("canceling statement due to statement timeout"), db._SLOW),
    (psycopg.OperationalError("connection failed: Connection refused"), db._LOST),
    (sqlite3.OperationalError("database is locked"), db._BUSY),
])
def test_passing_failures_are_named(orig: Exception, kind: str) -> None:
    assert db._failure(wrapped(orig)) == kind


@pytest.mark.parametrize("orig", [
    pg.UniqueViolation("duplicate key value"),
    pg.UndefinedTable('relation "orders" does not exist'),
    psycopg.ProgrammingError("bad query"),
    sqlite3.OperationalError("no such table: orders"),
])
def test_other_errors_are_not_passing(orig: Exception) -> None:
    assert db._failure(wrapped(orig)) is None


def test_a_connection_sqlalchemy_saw_die_is_lost_whatever_the_driver_said() -> None:
    assert db._failure(wrapped(psycopg.DatabaseError("?"), invalidated=True)) == db._LOST


def test_no_pool_connection_in_time_is_slow() -> None:
    assert db._failure(PoolTimeout("QueuePool limit reached")) == db._SLOW


def test_a_lost_connection_is_retried_then_unavailable_without_the_sql(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(str(tmp_path / "t.db"))
    calls = []

    def lost() -> None:
        calls.append(1)
        raise wrapped(pg.AdminShutdown("terminating connection due to administrator command"))

    try:
        with pytest.raises(Unavailable) as raised:
            database._retry(lost, 3)
    finally:
        database.dispose()
    assert len(calls) == 3
    assert "retry in a moment" in raised.value.message
    assert "SELECT" not in raised.value.message


def test_a_bug_is_not_retried(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(str(tmp_path / "t.db"))
    calls = []

    def bug() -> None:
        calls.append(1)
        raise wrapped(pg.UniqueViolation("duplicate key value"))

    try:
        with pytest.raises(DBAPIError):
            database._retry(bug, 3)
    finally:
        database.dispose()
    assert len(calls) == 1
