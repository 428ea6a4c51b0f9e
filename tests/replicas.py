"""Two `tote serve` replicas on one fresh PostgreSQL database, for the clients' tests with
several addresses (`--server A,B`): each test gets its own pair, since it kills one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import migrated_pg_database
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
    with migrated_pg_database(pg_server) as url:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a = ToteServer(url, tmp_path / "a").start()
        b = ToteServer(url, tmp_path / "b").start()
        admin, shop = b.client(b.token("admin", "ops")), b.client(b.token("storefront", "shop"))
        try:
            yield Replicas(a, b, admin, shop)
        finally:
            admin.close()
            shop.close()
            a.kill()
            b.terminate()
