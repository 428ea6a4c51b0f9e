"""Watching a tote's PostgreSQL connections from outside: pg_stat_activity by database and by
application_name (tote names every connection `tote`), on a connection of the test's own."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg

from tests.conftest import PG_URL

PROBE_NAME = "tote-test-probe"  # never counted as tote's own


def admin(dbname: str | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection to the test server (its database, or dbname), named so it is
    never counted as tote's."""
    conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    if dbname is not None:
        conninfo = conninfo.rsplit("/", 1)[0] + f"/{dbname}"
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5,
                           application_name=PROBE_NAME)


def tote_backends(conn: psycopg.Connection[Any], datname: str) -> list[tuple[int, str]]:
    """(pid, state) of each connection named tote on datname."""
    return [(pid, state or "") for pid, state in conn.execute(
        "SELECT pid, state FROM pg_stat_activity WHERE datname = %s "
        "AND application_name = 'tote'", (datname,)).fetchall()]


def wait_until(check, what: str, timeout_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    """Poll check() until it is true; fail naming what never happened (the deadline only
    catches a hang)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.05)


class ConnectionSampler(threading.Thread):
    """Counts tote's connections to one database over and over until stopped; `most` is the
    largest count seen."""

    def __init__(self, datname: str) -> None:
        super().__init__(daemon=True)
        self.datname = datname
        self.most = 0
        self.samples = 0
        self._stop_event = threading.Event()
        self._conn = admin()
        self.start()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.most = max(self.most, len(tote_backends(self._conn, self.datname)))
            self.samples += 1
            self._stop_event.wait(0.005)

    def stop(self) -> int:
        self._stop_event.set()
        self.join(10)
        self._conn.close()
        return self.most
