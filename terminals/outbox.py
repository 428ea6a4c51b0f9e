"""The handheld's durable outbox: scans and short picks waiting for the server, in order, and
the task in hand, in a local SQLite file, so a dead spot or a killed app loses no scan."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass

from tote.v1 import fulfillment_pb2 as fpb

# PRAGMA user_version of the file: 0 is the first layout (no operator column), 1 adds it.
VERSION = 1
_TABLES = """
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS held_task (one INTEGER PRIMARY KEY CHECK (one = 1), task BLOB);
"""


class OutboxError(Exception):
    """The outbox file cannot be used (written by a newer tote, or not an outbox)."""


@dataclass
class Scan:
    task_id: str
    barcode: str
    scan_id: str
    line_id: str
    operator_id: str = ""  # the badge signed in when the unit was scanned


@dataclass
class Short:
    task_id: str
    line_id: str
    missing: int
    operator_id: str = ""


class Outbox:
    """FIFO of Scan/Short items and the held task; every change is committed before it returns.

    A file written by an older terminal is brought up to date in place when it is opened; what
    it holds stays queued (its items carry no operator)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA synchronous=FULL")
            _upgrade(self._db, path)  # first: a file it refuses is left as it was
            self._db.execute("PRAGMA journal_mode=WAL")
        except (sqlite3.DatabaseError, OutboxError):
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, item: Scan | Short) -> None:
        kind = "scan" if isinstance(item, Scan) else "short"
        data = asdict(item)
        operator = data.pop("operator_id")
        with self._lock:
            self._db.execute("INSERT INTO outbox (item, operator_id) VALUES (?, ?)",
                             (json.dumps({"kind": kind, **data}), operator))

    def oldest(self) -> tuple[int, Scan | Short] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, item, operator_id FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else (row[0], _item(row[1], row[2]))

    def items(self) -> list[Scan | Short]:
        with self._lock:
            rows = self._db.execute("SELECT item, operator_id FROM outbox ORDER BY seq").fetchall()
        return [_item(*r) for r in rows]

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


def _upgrade(db: sqlite3.Connection, path: str) -> None:
    """Create the tables, or bring a file of an older layout up to VERSION, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > VERSION:
            raise OutboxError(f"outbox {path} was written by a newer tote (layout {version}, "
                              f"this one knows {VERSION}): update this terminal")
        for statement in filter(str.strip, _TABLES.split(";")):
            db.execute(statement)
        columns = {r[1] for r in db.execute("PRAGMA table_info(outbox)")}
        if "operator_id" not in columns:  # layout 0 → 1
            db.execute("ALTER TABLE outbox ADD COLUMN operator_id TEXT NOT NULL DEFAULT ''")
        db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _item(text: str, operator_id: str) -> Scan | Short:
    data = json.loads(text)
    kind = data.pop("kind")
    return (Scan if kind == "scan" else Short)(**data, operator_id=operator_id)
