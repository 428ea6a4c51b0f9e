"""A migrated SQLite file with two products (MUG, TEE), for the unit tests that run core jobs;
and a migrated PostgreSQL database per module, for their PostgreSQL twins."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.models import Product
from tests.conftest import migrated_pg_database

WHEN = datetime(2026, 12, 5, 7, 28, 42, 123456, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):  # type: ignore[no-untyped-def]
    path = str(tmp_path / "d.db")
    migrate.upgrade(path)
    database = Database(path)
    with database.write() as s:
        s.add(Product(sku="MUG", name="Mug", gtin="4006381333931", unit_price_minor=49_900,
                      currency="INR", weight_grams=350, updated_at=WHEN))
        s.add(Product(sku="TEE", name="Tee", gtin="4006381333948", unit_price_minor=79_900,
                      currency="INR", weight_grams=200, updated_at=WHEN))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for the module (dropped after it)."""
    with migrated_pg_database(pg_server) as url:
        yield url
