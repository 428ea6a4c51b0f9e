"""The handheld's durable outbox: scans and short picks waiting for the server, in order, and
the task in hand, in a local SQLite file, so a dead spot or a killed app loses no scan."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass

from tote.v1 import fulfillment_pb2 as fpb

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS held_task (one INTEGER PRIMARY KEY CHECK (one = 1), task BLOB);
"""


@dataclass
class Scan:
    task_id: str
    barcode: str
    scan_id: str
    line_id: str


@dataclass
class Short:
    task_id: str
    line_id: str
    missing: int


class Outbox:
    """FIFO of Scan/Short items and the held task; every change is committed before it returns."""

    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, item: Scan | Short) -> None:
        kind = "scan" if isinstance(item, Scan) else "short"
        with self._lock:
            self._db.execute("INSERT INTO outbox (item) VALUES (?)",
                             (json.dumps({"kind": kind, **asdict(item)}),))

    def oldest(self) -> tuple[int, Scan | Short] | None:
        with self._lock:
            row = self._db.execute("SELECT seq, item FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else (row[0], _item(row[1]))

    def items(self) -> list[Scan | Short]:
        with self._lock:
            rows = self._db.execute("SELECT item FROM outbox ORDER BY seq").fetchall()
        return [_item(r[0]) for r in rows]

    def done(self, seq: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def hold(self, task: fpb.PickTask | None) -> None:
        """Remember the task in hand with the counts the server confirmed (None: no task)."""
        with self._lock:
            self._db.execute("DELETE FROM held_task")
            if task is not None:
                self._db.execute("INSERT INTO held_task VALUES (1, ?)",
                                 (task.SerializeToString(),))

    def held(self) -> fpb.PickTask | None:
        with self._lock:
            row = self._db.execute("SELECT task FROM held_task").fetchone()
        return None if row is None else fpb.PickTask.FromString(row[0])


def _item(text: str) -> Scan | Short:
    data = json.loads(text)
    kind = data.pop("kind")
    return Scan(**data) if kind == "scan" else Short(**data)
