"""Alembic, driven from code: the schema exists only through these migrations."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import inspect

from alembic import command
from core.persistence.db import Database, normalize_url


def script_location() -> Path:
    """The alembic/ folder: beside the packages in a checkout, inside core in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_alembic", here.parent.parent / "alembic"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("tote's alembic/ migrations folder is missing from this install")


def alembic_config(url: str | None) -> Config:
    """An Alembic Config for this database URL (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None, revision: str = "head") -> None:
    """Migrate the database to `revision` (head by default)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None, revision: str = "base") -> None:
    """Migrate the database down to `revision` (base: nothing left)."""
    command.downgrade(alembic_config(url), revision)


def check(url: str | None) -> None:
    """Raise if the models and the migrated schema differ (alembic check)."""
    command.check(alembic_config(url))


def is_empty(db: Database) -> bool:
    """True when the database has no tables at all (a new SQLite file)."""
    return not inspect(db.write_engine).get_table_names()
