"""The schema exists only through Alembic: up, checked against the models, down to nothing and
up again, on SQLite and PostgreSQL; and through `tote db upgrade` and `tote serve`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect

from core.persistence import migrate
from core.persistence.db import normalize_url
from core.persistence.schema import metadata
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.harness import ROOT, ToteServer

TOTE_TABLES = set(metadata.tables)


def tables(url: str) -> set[str]:
    engine = create_engine(normalize_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database with nothing in it, of each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "empty.db")
        return
    url, name = fresh_pg_database(request.getfixturevalue("pg_server"))
    try:
        yield url
    finally:
        drop_pg_database(name)


def test_the_models_define_the_tables_tote_needs():
    assert {"orders", "order_lines", "order_events", "products", "stock_levels",
            "soft_locks", "fulfillment_centers", "api_tokens"} <= TOTE_TABLES


def test_upgrade_check_downgrade_to_nothing_and_upgrade_again(empty_db):
    assert tables(empty_db) == set()
    migrate.upgrade(empty_db)
    assert tables(empty_db) == TOTE_TABLES | {"alembic_version"}
    migrate.check(empty_db)

    migrate.downgrade(empty_db, "base")
    assert tables(empty_db) == {"alembic_version"}

    migrate.upgrade(empty_db)
    assert tables(empty_db) == TOTE_TABLES | {"alembic_version"}
    migrate.check(empty_db)
    migrate.upgrade(empty_db)  # at head already: nothing to do, nothing breaks
    migrate.check(empty_db)


def test_check_fails_when_the_schema_and_the_models_differ(empty_db):
    migrate.upgrade(empty_db)
    engine = create_engine(normalize_url(empty_db))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE webhook_receipts")
    finally:
        engine.dispose()
    with pytest.raises(Exception, match="(?i)webhook_receipts|new upgrade operations"):
        migrate.check(empty_db)


def test_tote_db_upgrade_creates_the_schema(tmp_path):
    db = tmp_path / "cli.db"
    out = subprocess.run([sys.executable, "-m", "server", "db", "upgrade", "--db", str(db)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "head" in out.stdout
    assert tables(str(db)) == TOTE_TABLES | {"alembic_version"}
    migrate.check(str(db))


def test_tote_serve_migrates_a_new_empty_sqlite_file_itself(tmp_path):
    db = tmp_path / "new.db"
    assert not db.exists()
    server = ToteServer(str(db), tmp_path).start()
    try:
        assert tables(str(db)) == TOTE_TABLES | {"alembic_version"}
    finally:
        assert server.terminate() == 0
    migrate.check(str(db))


@pytest.mark.postgres
def test_tote_serve_refuses_an_empty_postgresql_database_saying_how_to_migrate(
        pg_server, tmp_path):
    url, name = fresh_pg_database(pg_server)
    try:
        server = ToteServer(url, tmp_path)
        try:
            with pytest.raises(RuntimeError, match="tote db upgrade"):
                server.start()
        finally:
            server.kill()  # start() leaves the exited child's stdout pipe open
        assert server.proc is not None and server.proc.returncode != 0
        assert tables(url) == set()
    finally:
        drop_pg_database(name)
