"""A running `tote serve --sandbox` per test module and backend, seeded with an FC."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import live_server
from tests.harness import Client, ToteServer

# A new FC of the test's own (tests/live_server.py), so pick queues never mix.
fc = live_server.fc


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"),
                        args=["--cod-limit-minor", "2000000"]).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def admin(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("admin", "ops"))
    client.fc("FC-BLR")
    yield client
    client.close()


shop = live_server.role_client("storefront", "shop-a")
# A supervisor at the ops desk (hand-offs, remittances, reconciliation).
ops = live_server.role_client("supervisor", "ops")
# The sandbox carrier, reporting tracking events.
carrier = live_server.role_client("carrier", "sandbox")
