"""A real `tote serve --sandbox` (SQLite) for the terminal tests, and a fake client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from terminals.client import ToteClient
from tests import live_server
from tests.harness import unique

# The live server's fixtures (tests/live_server.py), shared with the other client app's tests.
db_url, tote, admin, shop, fc = (live_server.db_url, live_server.tote, live_server.admin,
                                 live_server.shop, live_server.fc)


@pytest.fixture
def picker_client(tote, fc) -> Iterator[ToteClient]:  # type: ignore[no-untyped-def]
    """A handheld's client, signed in as a picker of the test's FC (packers use the same)."""
    client = ToteClient(tote.grpc_address, tote.token("picker", unique("picker"), fc))
    yield client
    client.close()


@pytest.fixture(autouse=True)
def brisk_keys(monkeypatch):  # type: ignore[no-untyped-def]
    """Pilot waits for the app to go idle after every key it presses, in 20 ms sleeps, twice
    per key: a typed GTIN took close to a second. Sleeps of 2 ms with the same idle test (the
    process busy under 5% of the time slept) still settle each key before the next one
    (terminal suite 52 → ~30 s with more tests)."""
    monkeypatch.setattr("textual._wait.SLEEP_GRANULARITY", 0.002)
    monkeypatch.setattr("textual._wait.SLEEP_IDLE", 0.002 / 20)
