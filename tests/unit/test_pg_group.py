"""Group commit on PostgreSQL (server/dbgroup.py): the write jobs waiting when a transaction
starts run in it with one COMMIT, and a job that fails — even on a write that waited for that
COMMIT (core/persistence/pg_pipeline.py) — fails alone: the others are committed and answered."""

from collections.abc import Iterator

import psycopg
import pytest

from core.domain.errors import Unavailable
from core.persistence.db import Database
from server.dbgroup import run_group
from tests.unit.test_pg_pipeline import ADD, PRODUCTS, ROW, _skus

pytestmark = pytest.mark.postgres

@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    with database.write() as s:
        s.execute(PRODUCTS.delete())
        ADD.execute(s.connection(), {"sku": "MUG", **ROW})
    yield database
    database.dispose()


def _add(sku: str):  # type: ignore[no-untyped-def]
    def job(session):  # type: ignore[no-untyped-def]
        ADD.execute(session.connection(), {"sku": sku, **ROW})
        return sku
    return job


def test_a_job_whose_waiting_write_fails_at_the_commit_fails_alone(db):
    outcomes = run_group(db, [_add("CUP"), _add("MUG"), _add("JUG")])  # MUG is there already
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert "duplicate key" in str(outcomes[1][1])
    assert [value for ok, value in outcomes if ok] == ["CUP", "JUG"]
    assert _skus(db) == {"MUG", "CUP", "JUG"}


def test_a_job_that_meets_a_lock_held_elsewhere_is_retried_then_unavailable_alone(db, pg_url):
    """A lock held by another transaction (another replica's group) is a passing failure: the
    job runs again alone, as any transaction is retried, and its caller gets UNAVAILABLE with
    what to do — never the raw database error — while the rest of the group commits."""
    def take_mug(session):  # type: ignore[no-untyped-def]
        session.connection().exec_driver_sql(
            "SELECT sku FROM products WHERE sku = 'MUG' FOR UPDATE NOWAIT").all()
        return "MUG"

    url = db.write_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as holder:  # another transaction holds MUG's row
        holder.execute("SELECT sku FROM products WHERE sku = 'MUG' FOR UPDATE")
        outcomes = run_group(db, [_add("CUP"), take_mug, _add("JUG")])
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert isinstance(outcomes[1][1], Unavailable)
    assert "busy" in outcomes[1][1].message
    assert _skus(db) == {"MUG", "CUP", "JUG"}
