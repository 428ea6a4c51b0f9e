"""Named worker leases (worker_leases) on each backend: one holder at a time, renewal by the
holder, a lapsed lease taken over (and said so), a released one free at once; and two
replicas racing for a lapsed lease on PostgreSQL: exactly one wins."""

from __future__ import annotations

import concurrent.futures
import threading
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.lease_commands import LeaseGrant
from core.persistence.db import Database
from core.service import leases
from tests.harness import unique

LEASE = timedelta(seconds=15)
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(db_url):  # type: ignore[no-untyped-def]
    made = Database(db_url)
    yield made
    made.dispose()


def _acquire(db: Database, name: str, holder: str, now: datetime) -> LeaseGrant:
    return db.run_write(lambda s: leases.acquire(s, name, holder, now, LEASE))


def test_one_holder_at_a_time_until_its_lease_lapses_then_a_takeover_is_reported(db):
    name = unique("w")
    assert _acquire(db, name, "a", T0) == LeaseGrant(True, None)
    assert _acquire(db, name, "b", T0 + timedelta(seconds=5)) == LeaseGrant(False, None)
    # The holder renews: b still waits past the first lease's end.
    assert _acquire(db, name, "a", T0 + timedelta(seconds=10)) == LeaseGrant(True, None)
    assert _acquire(db, name, "b", T0 + timedelta(seconds=20)) == LeaseGrant(False, None)
    # a stops renewing (dies): b takes the lease over once it lapses, and says from whom.
    assert _acquire(db, name, "b", T0 + timedelta(seconds=25)) == LeaseGrant(True, "a")
    assert _acquire(db, name, "a", T0 + timedelta(seconds=26)) == LeaseGrant(False, None)


def test_a_released_lease_is_free_at_once_and_not_counted_as_a_takeover(db):
    name = unique("w")
    assert _acquire(db, name, "a", T0).held
    assert db.run_write(lambda s: leases.release(s, name, "a", T0 + timedelta(seconds=1)))
    assert not db.run_write(lambda s: leases.release(s, name, "b", T0 + timedelta(seconds=1)))
    assert _acquire(db, name, "b", T0 + timedelta(seconds=1)) == LeaseGrant(True, None)


# PostgreSQL only (SQLite has one writer: there is no race to lose).
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_replicas_racing_for_a_lapsed_lease_on_postgresql_give_it_to_exactly_one(db_url, db):
    name = unique("w")
    assert _acquire(db, name, "old", T0).held
    later = T0 + timedelta(minutes=1)
    start = threading.Barrier(8)

    def take(i: int) -> bool:
        start.wait()
        return _acquire(db, name, f"r{i}", later).held

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        won = list(pool.map(take, range(8)))
    assert won.count(True) == 1, won
