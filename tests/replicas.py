"""Two `tote serve` replicas on one fresh PostgreSQL database, for the clients' tests with
several addresses (`--server A,B`): each test gets its own pair, since it kills one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.persistence import migrate
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.harness import Client, ToteServer


@dataclass
class Replicas:
    a: ToteServer
    b: ToteServer
    admin: Client  # through B (A is the one the tests kill)
    shop: Client

    @property
    def both(self) -> str:
        """The --server value naming both, the one to be killed first."""
        return f"{self.a.grpc_address},{self.b.grpc_address}"


@pytest.fixture
def replicas(pg_server, tmp_path: Path) -> Iterator[Replicas]:  # type: ignore[no-untyped-def]
    url, name = fresh_pg_database(pg_server)
    try:
        migrate.upgrade(url)
        a = ToteServer(url, tmp_path / "a").start() if (tmp_path / "a").mkdir() is None else None
        b = ToteServer(url, tmp_path / "b").start() if (tmp_path / "b").mkdir() is None else None
        assert a is not None and b is not None
        admin, shop = b.client(b.token("admin", "ops")), b.client(b.token("storefront", "shop"))
        try:
            yield Replicas(a, b, admin, shop)
        finally:
            admin.close()
            shop.close()
            a.kill()
            b.terminate()
    finally:
        drop_pg_database(name)
