"""Shared fixtures: databases (SQLite file, fresh PostgreSQL database) and a running tote."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.persistence import migrate

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

@pytest.fixture(autouse=True)
def _no_stray_children() -> Iterator[None]:
    """Kill any `tote serve` or sandbox a test started and left running (an assertion that
    failed before its own teardown): the next tests must not meet it, nor its Popen's warning."""
    from tests.harness import SandboxProcess, running_children

    before = running_children()
    yield
    for child in running_children() - before:
        if isinstance(child, SandboxProcess):
            child.stop()
        else:
            child.kill()


PG_URL = os.environ.get("TOTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=3)


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with _pg_admin() as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure to connect means: not here
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL URL, or a skip (never in CI, where it is a failure)."""
    why = pg_available()
    if why is not None:
        message = (f"PostgreSQL not reachable at {PG_URL} ({why}); run scripts/test, which "
                   "sets it up (as root it installs PostgreSQL, starts a cluster on that port "
                   "and creates the database; else it prints the one command to run)")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return PG_URL


def fresh_pg_database(pg_server: str) -> tuple[str, str]:
    """Create an empty database; returns (its URL, its name)."""
    name = f"tote_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.rsplit("/", 1)[0] + f"/{name}", name


def drop_pg_database(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def migrated_pg_database(pg_server: str, revision: str = "head") -> Iterator[str]:
    """A new PostgreSQL database migrated to revision, dropped afterwards."""
    url, name = fresh_pg_database(pg_server)
    try:
        migrate.upgrade(url, revision)
        yield url
    finally:
        drop_pg_database(name)


@contextmanager
def migrated_database(request, folder: Path,  # type: ignore[no-untyped-def]
                      revision: str = "head") -> Iterator[str]:
    """A new database of request.param's backend (a file in folder, or a PostgreSQL database
    dropped afterwards) migrated to revision."""
    if request.param == "sqlite":
        url = str(folder / "tote.db")
        migrate.upgrade(url, revision)
        yield url
        return
    with migrated_pg_database(request.getfixturevalue("pg_server"), revision) as url:
        yield url


def database_at(revision: str):  # type: ignore[no-untyped-def]
    """A fixture: a database of each backend migrated to revision, where a migration's test
    starts (assign it to a name in the test module)."""

    @pytest.fixture(params=BACKENDS)
    def database(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
        with migrated_database(request, tmp_path, revision) as url:
            yield url

    return database


@pytest.fixture(params=BACKENDS, scope="module")
def db_url(request, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A migrated, empty database of each backend."""
    with migrated_database(request, tmp_path_factory.mktemp("db")) as url:
        yield url
