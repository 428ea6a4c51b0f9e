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


@pytest.fixture(scope="module")
def shop(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("storefront", "shop-a"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def ops(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """A supervisor at the ops desk (hand-offs, remittances, reconciliation)."""
    client = tote.client(tote.token("supervisor", "ops"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def carrier(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """The sandbox carrier, reporting tracking events."""
    client = tote.client(tote.token("carrier", "sandbox"))
    yield client
    client.close()
