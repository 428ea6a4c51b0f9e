"""PostgreSQL failing under load: restarted, or tote's connections killed over and over.

While it fails, every call answers OK or UNAVAILABLE (with a message saying to retry, never
the SQL, never INTERNAL or UNKNOWN, never past its deadline); tote recovers by itself when the
database is back; nothing acknowledged is lost; every saga ends; `tote check` is clean.
Each test runs a PostgreSQL cluster of its own (tests/pgcluster.py): the suite's shared server
is never restarted.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from core.persistence import migrate
from tests.harness import ToteServer
from tests.orderflow import assert_outcome, start_flow
from tests.pgcluster import Cluster, clusters

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
# How long connections are killed for (the minute; shorter when iterating locally).
TERMINATE_FOR_S = float(os.environ.get("TOTE_TEST_TERMINATE_S", "60"))


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with clusters() as made:
        yield made.new()


@pytest.fixture
def served(cluster: Cluster, tmp_path) -> Iterator[tuple[Cluster, str, ToteServer]]:  # type: ignore[no-untyped-def]
    url = cluster.create_database("tote")
    migrate.upgrade(url)
    server = ToteServer(url, tmp_path, args=["--saga-lease-s", "3"]).start()
    try:
        yield cluster, url, server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.terminate()


def test_a_restart_of_postgresql_answers_unavailable_and_tote_recovers_by_itself(served):
    cluster, url, server = served
    flow = start_flow(server)
    with flow.flowing():
        flow.wait_for(grpc.StatusCode.OK, 30, "before the restart")
        cluster.stop("fast")
        # Down until calls meet it (calls with new tokens go to the database to check them).
        flow.wait_for(grpc.StatusCode.UNAVAILABLE, 30, "while PostgreSQL is down")
        cluster.start()
        flow.wait_for(grpc.StatusCode.OK, 30, "after PostgreSQL came back (no restart of tote)")
    assert_outcome(flow, url)
    assert server.proc is not None and server.proc.poll() is None, "tote serve died"


def test_connections_killed_twice_a_second_answer_unavailable_and_lose_nothing(served):
    cluster, url, server = served
    flow = start_flow(server)
    stop = threading.Event()
    killed = [0]

    def terminator() -> None:
        admin = cluster.connect()
        try:
            while not stop.wait(0.5):
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = 'tote' AND pid <> pg_backend_pid()").fetchall()
                killed[0] += len(rows)
        finally:
            admin.close()

    with flow.flowing():
        flow.wait_for(grpc.StatusCode.OK, 30, "before killing connections")
        thread = threading.Thread(target=terminator, daemon=True)
        thread.start()
        try:
            ends = time.monotonic() + TERMINATE_FOR_S
            while time.monotonic() < ends:  # the duration is the test's subject, not a wait
                assert not flow.wrong, (f"calls answered other than OK/UNAVAILABLE: "
                                        f"{flow.wrong[:5]}")
                time.sleep(0.5)
        finally:
            stop.set()
            thread.join(30)
        assert killed[0] > 0, "no connection of tote's was killed"
        flow.wait_for(grpc.StatusCode.OK, 30, "after the killing stopped")
    # Killed connections may all have been retried (reads; writes that had not committed):
    # no UNAVAILABLE is needed here, only no other code.
    assert_outcome(flow, url, outage=False)
