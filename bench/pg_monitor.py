"""bench/saga_pg.py's instruments: the PostgreSQL server it was given (fresh databases, dropped
afterwards), one database's statistics and backends, and CPU time of processes over a window."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

CLK_TCK = os.sysconf("SC_CLK_TCK")
FINAL = ("PROCESSING", "CANCELLED")  # where a saga ends


def _libpq(url: str) -> str:
    """An SQLAlchemy URL (postgresql+psycopg://) as a libpq one."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_db(url: str, name: str) -> str:
    base, _, rest = url.rpartition("/")
    query = rest.partition("?")[2]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def _machine() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat): how loaded it was."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    return sum(vals) - idle, sum(vals)


def _proc_cpu(pid: int, children: bool = False) -> float | None:
    """CPU seconds of one process (all threads; with `children`, its reaped children too)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


class Pg:
    """The bench's own autocommit connection to the bench's database: counters and checks.

    Every statement it runs is a transaction of its own that pg_stat_database counts as a
    commit: `own_commits` counts them, so they can be taken off the database's figure.
    """

    def __init__(self, url: str, name: str) -> None:
        self.name = name
        self.conn = psycopg.connect(_libpq(url), autocommit=True)
        self.pid = self.conn.info.backend_pid
        self.own_commits = 0

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        self.own_commits += 1
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self.own_commits += 1
        return self.conn.execute(sql, params).fetchall()

    def finished(self) -> int:
        return int(self.one("SELECT count(*) FROM orders WHERE status = ANY(%s)", (list(FINAL),)))

    def placed(self) -> int:
        return int(self.one("SELECT count(*) FROM orders"))

    def commits(self) -> int:
        self.all("SELECT pg_stat_clear_snapshot()")
        return int(self.one("SELECT xact_commit FROM pg_stat_database WHERE datname = %s",
                            (self.name,)))

    def backends(self) -> dict[int, str]:
        """pid → backend_type of every process PostgreSQL lists for the bench's database (client
        backends and autovacuum workers), but this connection's own."""
        self.all("SELECT pg_stat_clear_snapshot()")
        return {pid: kind for pid, kind in self.all(
            "SELECT pid, backend_type FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            (self.name, self.pid))}

    def cluster_background(self) -> list[int]:
        """The server's processes that serve no one database (checkpointer, WAL writer,
        background writer, autovacuum launcher…): shared with every other user of the server."""
        return [pid for (pid,) in self.all(
            "SELECT pid FROM pg_stat_activity WHERE datname IS NULL")]

    def close(self) -> None:
        self.conn.close()


@dataclass
class CpuWindow:
    """CPU seconds of a set of processes from `start()` to `stop()`."""

    pids: Callable[[], dict[int, str]]
    children: bool = False
    before: dict[int, float] = field(default_factory=dict)
    lost: int = 0  # processes seen at the start but gone at the end: their CPU is not counted

    def start(self) -> None:
        self.before = {p: c for p in self.pids() if (c := _proc_cpu(p, self.children)) is not None}

    def stop(self) -> float:
        total, self.lost = 0.0, 0
        now = self.pids()
        for pid in set(now) | set(self.before):
            c = _proc_cpu(pid, self.children)
            if c is None:
                self.lost += pid in self.before
                continue
            total += c - self.before.get(pid, 0.0)  # a process new in the window: all of it
        return total


class PgServer:
    """The PostgreSQL server the bench was given: fresh databases on it, dropped afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url

    def create(self, prefix: str) -> tuple[str, str]:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return _with_db(self.url, name), name

    def drop(self, name: str) -> None:
        with psycopg.connect(_libpq(self.url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
