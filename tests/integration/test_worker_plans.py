"""The background workers' scans on SQLite as tote leaves the file (no ANALYZE statistics): each
reaches its rows through an index, in the order it asks for them, whatever the history.

They run in SQLite's one writer (the packing worker's claim twice a second, the saga scan) or
beside it (the tracking poll), and a statement there that reads every shipment or order ever
made queues every PlaceOrder behind it as the history grows: the packing claim did, 110-190 ms
at a million orders (docs/operations.md, "Measured"). SQLite's planner without statistics
chooses by the schema alone, so the plan on an empty migrated file is the plan it makes at a
million orders: EXPLAIN QUERY PLAN (tests/sqlite_plans.py) tells whether an index serves the
statement without building the million. How fast they are there is bench/data_growth.py's
business.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.packing_commands import ClaimStuckPackings
from core.domain.saga_commands import ClaimDueSagas
from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.repos import routing as routing_repo
from core.service import shipping
from core.service.bus import handle
from core.service.deps import Deps, HandlerConfig
from tests.sqlite_plans import assert_indexed

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'tote.db'}"
    migrate.upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def test_the_packing_claim_reads_the_shipments_left_packing_through_an_index(db):
    deps = Deps.for_process(HandlerConfig())
    # The first pass after a start takes every one; later passes those idle past the lease.
    assert_indexed(db, lambda s: handle(s, ClaimStuckPackings(None, NOW), deps))
    assert_indexed(db, lambda s: handle(s, ClaimStuckPackings(NOW - LEASE, NOW), deps))


def test_the_tracking_poll_reads_the_parcels_on_their_way_through_an_index(db):
    assert_indexed(db, shipping.due_for_polling)  # as server/tracking.py reads it


def test_the_saga_scan_and_the_routing_backlog_stay_indexed(db):
    deps = Deps.for_process(HandlerConfig())
    assert_indexed(db, lambda s: handle(s, ClaimDueSagas(NOW, LEASE, 200), deps))
    # Grouped, not ordered: its sort is of the open shipments it counts, a few per FC.
    assert_indexed(db, lambda s: routing_repo.backlog(s.connection()), ordered=False)
