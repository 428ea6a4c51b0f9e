"""Packing's lease across two replicas: a packing is run by one replica at a time however long
the gateway or carrier makes it wait, and a replica stopped with SIGTERM hands its packings to
the other at once (killed with SIGKILL, they are taken after the lease: test_replicas.py).

PostgreSQL only: SQLite is one process's file, so there is nothing to share.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from tests.conftest import migrated_pg_database
from tests.harness import Client, card, ledger, sandbox_card, unique
from tests.integration.test_metrics import scrape, value
from tests.integration.test_packing import pick
from tests.integration.test_replicas import LEASE_S, Replicas, _log, _wait, replicas
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2

PROCESSING, PACKED, CANCELLED = (pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_PACKED,
                                 pb.ORDER_STATUS_CANCELLED)
TAKEN_OVER = "packing(s) from a replica whose lease expired"
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, migrated PostgreSQL database of the test's own."""
    with migrated_pg_database(pg_server) as url:
        yield url


def _picked_order(two: Replicas) -> tuple[Client, str]:
    """One paid order, picked at FC-BLR through the first replica: (its packer, the order)."""
    admin = two.client(two.a, "admin")
    admin.fc("FC-BLR")
    sku = unique("LEASEPACK")
    admin.product(sku, weight_grams=350)
    admin.receive("FC-BLR", sku, 5)
    placed = admin.place([(sku, 1)], card(sandbox_card(two.sandbox.url)))
    assert admin.wait_status(placed.order_id, {PROCESSING, CANCELLED}).status == PROCESSING
    packer = two.client(two.a, "picker", "p1", "FC-BLR")
    pick(two.a, packer, "")
    return packer, placed.order_id


def _pack(packer: Client, order_id: str) -> None:
    packer.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
        order_id=order_id, weight_grams=350 + 250, box="M"), metadata=packer.metadata,
        timeout=60)


def _capture_requests(two: Replicas) -> int:
    """Capture calls that reached the gateway (answered or not), by either replica."""
    return sum(n for route, n in two.requests()["requests"].items()
               if route.startswith("POST ") and route.endswith("/capture"))


def test_a_packing_whose_calls_outlast_the_lease_is_not_taken_over_by_the_other_replica(
        pg_url, tmp_path: Path):
    with replicas(pg_url, tmp_path) as two:
        packer, order_id = _picked_order(two)
        # From now on the capture and the carrier each answer after 1.5 leases (within the
        # gateway client's timeout): the first replica's packing waits that long on each, while
        # the second scans for packings idle past the lease every half second.
        two.latency(LEASE_S * 1500)
        _pack(packer, order_id)
        two.latency(0)
        assert two.client(two.b, "admin").get(order_id).status == PACKED
        assert _capture_requests(two) == 1, "the packing ran on both replicas"
        assert len([e for e in ledger(two.sandbox.url, order_id) if e["kind"] == "capture"]) == 1
        assert value(scrape(two.b), "tote_lease_takeovers_total", worker="packing") == 0
        assert TAKEN_OVER not in _log(two.b)


def test_sigterm_mid_packing_hands_the_packing_to_the_other_replica_at_once(
        pg_url, tmp_path: Path):
    lease_s = 120  # what the packing would wait for if it were not handed over
    with replicas(pg_url, tmp_path, args=("--saga-lease-s", str(lease_s))) as two:
        packer, order_id = _picked_order(two)
        # The first replica's capture goes unanswered (the gateway client gives up each try
        # after 5 s): still trying when its gRPC drain (10 s) ends and the packing is stopped.
        httpx.post(f"{two.sandbox.url}/v1/sandbox/faults", json={
            "route": "capture", "kind": "timeout_before", "delay_ms": 6_000, "count": 3,
        }).raise_for_status()

        def pack_on_a() -> None:
            with contextlib.suppress(grpc.RpcError):  # the replica stops under the call
                _pack(packer, order_id)

        thread = threading.Thread(target=pack_on_a)
        thread.start()
        _wait(lambda: _capture_requests(two) >= 1, "the capture did not reach the gateway", 30)
        assert two.a.terminate() == 0
        thread.join(30)
        httpx.delete(f"{two.sandbox.url}/v1/sandbox/faults").raise_for_status()
        # The second finishes it as its own work well within the lease, not as a takeover.
        watcher = two.client(two.b, "admin")
        final = watcher.wait_status(order_id, {PACKED, CANCELLED}, timeout_s=lease_s / 4)
        assert final.status == PACKED, final.cancel_reason
        assert len([e for e in ledger(two.sandbox.url, order_id) if e["kind"] == "capture"]) == 1
        assert "resumed packing of" in _log(two.b)
        assert TAKEN_OVER not in _log(two.b), \
            "the stopping replica kept its packing's lease: the other waited for it to lapse"
