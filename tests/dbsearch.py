"""Looking through a live server's database (files and rows, either backend) and log for text
that must not be there, and a cheap fingerprint to tell that a refused call changed nothing."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import JSON, Engine, String, create_engine, inspect, text

from core.domain.cards import ascii_digits
from core.persistence.db import normalize_url

_NOT_DIGIT = re.compile(r"\D")


def is_postgres(db_url: str) -> bool:
    return normalize_url(db_url).startswith("postgresql")


def sqlite_files(db_url: str) -> list[Path]:
    """The SQLite file and its -wal (and -journal) beside it, those that exist."""
    if is_postgres(db_url):
        return []
    path = Path(normalize_url(db_url).removeprefix("sqlite:///"))
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]


def text_values(db_url: str) -> Iterator[tuple[str, str]]:
    """("table.column", value) for every value of every text column of every table.

    PostgreSQL: the columns come from one information_schema query (text, varchar, json)."""
    engine = create_engine(normalize_url(db_url))
    try:
        with engine.connect() as conn:
            if is_postgres(db_url):
                columns = [(t, c) for t, c in conn.execute(text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND data_type IN "
                    "('text', 'character varying', 'character', 'json', 'jsonb')"))]
            else:
                insp = inspect(conn)
                columns = [(t, c["name"]) for t in insp.get_table_names()
                           for c in insp.get_columns(t) if isinstance(c["type"], String | JSON)]
            for table, column in columns:
                rows = conn.execute(text(f'SELECT CAST("{column}" AS TEXT) FROM "{table}"'))
                for (value,) in rows:
                    if value is not None:
                        yield f"{table}.{column}", str(value)
    finally:
        engine.dispose()


def digits_of(value: str) -> str:
    """Only the digits of a value, every script's read as ASCII."""
    return _NOT_DIGIT.sub("", ascii_digits(value))


def found_in_rows(db_url: str, numbers: Iterable[str]) -> list[str]:
    """"table.column" of every value whose digits hold one of `numbers`."""
    wanted = set(numbers)
    return [where for where, value in text_values(db_url)
            if any(n in digits_of(value) for n in wanted)]


def found_in_bytes(data: bytes, needles: Iterable[str]) -> list[str]:
    return [n for n in needles if n.encode() in data]


@functools.lru_cache(maxsize=8)
def _engine(db_url: str) -> Engine:
    # One per database for the whole run: a property test fingerprints hundreds of times.
    # (A pooled connection does not keep a test's PostgreSQL database: it is dropped WITH FORCE.)
    return create_engine(normalize_url(db_url))


# A replica's own bookkeeping, renewed on its clock whatever any call does (server/leases.py);
# the outbox consumers' positions, moved past events in their own time (server/outbox.py: the
# storefront webhooks' consumer runs in every server, so an event committed by an accepted call
# moves it a moment later, maybe inside the next call's window).
BACKGROUND_TABLES = frozenset({"worker_leases", "outbox_positions"})


def fingerprint(db_url: str) -> dict[str, str]:
    """A digest of every table's rows (in any order): what any write would change (but the
    tables the server's background workers keep by the clock)."""
    with _engine(db_url).connect() as conn:
        out = {}
        for t in inspect(conn).get_table_names():
            if t in BACKGROUND_TABLES:
                continue
            rows = sorted(repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{t}"')))
            out[t] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
        return out
