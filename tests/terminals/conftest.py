"""A real `tote serve --sandbox` (SQLite) for the terminal tests, and a fake client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.persistence import migrate
from tests.harness import Client, ToteServer


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    """SQLite only: the terminals do not depend on the backend."""
    url = str(tmp_path_factory.mktemp("db") / "tote.db")
    migrate.upgrade(url)
    return url


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
    yield client
    client.close()


@pytest.fixture(scope="module")
def shop(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("storefront", "shop-a"))
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
