"""The database's own failover: a primary with a synchronous streaming standby; the primary
killed (-9) while orders flow, the standby promoted; tote, given both hosts in one URL,
carries on against the new primary by itself, with every acknowledged order there.

The URL is SQLAlchemy's multi-host form: one `host=HOST:PORT` query parameter per server,
and libpq's `target_session_attrs=read-write`, so a connection goes to whichever server takes
writes (libpq's `host=a,b&port=p,q` works too; `host=a:p,b:q` does not).
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from core.persistence import migrate
from tests.harness import ToteServer
from tests.orderflow import assert_outcome, start_flow
from tests.pgcluster import Cluster, clusters

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def both_hosts(primary: Cluster, standby: Cluster, database: str) -> str:
    return (f"postgresql+psycopg://postgres@/{database}?host={primary.host}"
            f"&host={standby.host}&target_session_attrs=read-write")


@pytest.fixture
def pair() -> Iterator[tuple[Cluster, Cluster]]:
    with clusters() as made:
        yield made.primary_with_standby()


def test_tote_carries_on_against_a_promoted_standby_with_nothing_acknowledged_lost(
        pair, tmp_path):  # type: ignore[no-untyped-def]
    primary, standby = pair
    primary.create_database("tote")
    url = both_hosts(primary, standby, "tote")
    migrate.upgrade(url)
    server = ToteServer(url, tmp_path, args=["--saga-lease-s", "3"]).start()
    try:
        flow = start_flow(server)
        with flow.flowing():
            flow.wait_for(grpc.StatusCode.OK, 30, "before the failover")
            primary.kill()
            # Without a primary calls fail; then the operator (or a failover manager) promotes.
            flow.wait_for(grpc.StatusCode.UNAVAILABLE, 10, "while no server takes writes")
            standby.promote()
            flow.wait_for(grpc.StatusCode.OK, 30, "after the standby's promotion")
        assert standby.sql("SELECT pg_is_in_recovery()") == [(False,)]
        # Checked on the new primary alone: whatever tote acknowledged is there.
        assert_outcome(flow, standby.url("tote"))
        assert server.proc is not None and server.proc.poll() is None, "tote serve died"
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.terminate()
