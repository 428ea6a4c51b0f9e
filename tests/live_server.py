"""Fixtures of the client apps' tests (terminals, console): a real `tote serve --sandbox` on a
SQLite file per module — the apps speak gRPC only, so the backend does not matter to them —
and an admin and a storefront client of it. A conftest imports the fixtures it wants."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

from core.persistence import migrate
from tests.harness import Client, ToteServer, unique


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
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


def role_client(role: str, name: str) -> Any:
    """A module fixture: a client of the module's `tote` with a new token of `role`."""

    @pytest.fixture(scope="module")
    def client(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
        with closing(tote.client(tote.token(role, name))) as made:
            yield made

    return client


admin = role_client("admin", "ops")
shop = role_client("storefront", "shop-a")


@pytest.fixture
def fc(admin) -> str:  # type: ignore[no-untyped-def]
    """A new FC of this test's own, so pick queues never mix."""
    fc_id = unique("FC")
    admin.fc(fc_id)
    return fc_id
