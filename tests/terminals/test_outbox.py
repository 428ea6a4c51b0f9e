"""The outbox keeps scans in order and the task in hand across a reopen of its file, and a file
of an older layout is upgraded in place and drains."""

from __future__ import annotations

import json
import sqlite3

import pytest

from terminals.outbox import VERSION, Outbox, OutboxError, Scan, Short
from terminals.picker.app import PickerApp
from tests.terminals.fake import FakeClient, task
from tests.terminals.helpers import text, until
from tote.v1 import fulfillment_pb2 as fpb


def test_items_come_back_in_order_after_a_reopen_and_leave_once_done(tmp_path):
    path = str(tmp_path / "outbox.db")
    outbox = Outbox(path)
    outbox.put(Scan("T1", "4006381333931", "s1", "L1"))
    outbox.put(Short("T1", "L1", 2))
    outbox.put(Scan("T1", "4006381333931", "s2", "L1"))
    outbox.hold(task(("SOAP-1", "4006381333931", "A-01-1", 5)))
    outbox.close()

    outbox = Outbox(path)
    assert outbox.items() == [Scan("T1", "4006381333931", "s1", "L1"), Short("T1", "L1", 2),
                              Scan("T1", "4006381333931", "s2", "L1")]
    seq, first = outbox.oldest()  # type: ignore[misc]
    assert first == Scan("T1", "4006381333931", "s1", "L1")
    outbox.done(seq)
    assert outbox.count() == 2 and outbox.oldest()[1] == Short("T1", "L1", 2)  # type: ignore[index]
    held = outbox.held()
    assert held is not None and held.task_id == "T1" and held.lines[0].quantity == 5
    outbox.hold(None)
    assert outbox.held() is None
    outbox.close()


def test_the_operator_of_each_item_is_kept():
    outbox = Outbox()
    outbox.put(Scan("T1", "4006381333931", "s1", "L1", "OP7"))
    outbox.put(Short("T1", "L1", 1, "OP9"))
    assert outbox.items() == [Scan("T1", "4006381333931", "s1", "L1", "OP7"),
                              Short("T1", "L1", 1, "OP9")]
    outbox.close()


# The layout and rows exactly as the first terminal (no operator column) wrote them.
FIRST_LAYOUT = """
CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL);
CREATE TABLE held_task (one INTEGER PRIMARY KEY CHECK (one = 1), task BLOB);
"""


def first_layout_file(path: str, held: fpb.PickTask) -> None:
    db = sqlite3.connect(path)
    db.executescript(FIRST_LAYOUT)
    for scan_id in ("old-1", "old-2"):
        db.execute("INSERT INTO outbox (item) VALUES (?)", (json.dumps(
            {"kind": "scan", "task_id": "T1", "barcode": SOAP[1], "scan_id": scan_id,
             "line_id": "L1"}),))
    db.execute("INSERT INTO outbox (item) VALUES (?)", (json.dumps(
        {"kind": "short", "task_id": "T1", "line_id": "L1", "missing": 1}),))
    db.execute("INSERT INTO held_task VALUES (1, ?)", (held.SerializeToString(),))
    db.commit()
    db.close()


SOAP = ("SOAP-1", "4006381333931", "A-01-1", 3)


def test_a_file_of_the_first_layout_is_upgraded_in_place_and_keeps_its_items(tmp_path):
    path = str(tmp_path / "picker.db")
    first_layout_file(path, task(SOAP))
    outbox = Outbox(path)
    assert outbox.items() == [Scan("T1", SOAP[1], "old-1", "L1", ""),
                              Scan("T1", SOAP[1], "old-2", "L1", ""), Short("T1", "L1", 1, "")]
    outbox.put(Scan("T1", SOAP[1], "new-1", "L1", "OP7"))
    held = outbox.held()
    assert held is not None and held.task_id == "T1"
    outbox.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION == 1
    db.close()
    outbox = Outbox(path)  # opening an up-to-date file again changes nothing
    assert [i.operator_id for i in outbox.items()] == ["", "", "", "OP7"]
    outbox.close()


async def test_a_queue_left_by_the_first_terminal_drains_in_order_after_the_upgrade(tmp_path):
    path = str(tmp_path / "picker.db")
    held = task(SOAP)
    first_layout_file(path, held)
    client = FakeClient()
    client.current = held  # the server holds the same task
    outbox = Outbox(path)
    app = PickerApp(client, "FC1", outbox=outbox)
    async with app.run_test(size=(40, 16)) as pilot:
        await pilot.press(*"OP7", "enter")
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
    assert client.scans == [("T1", SOAP[1], "old-1", ""), ("T1", SOAP[1], "old-2", "")]
    assert client.shorts == [("T1", "L1", 1, "")]
    assert outbox.count() == 0
    outbox.close()


def test_a_file_from_a_newer_terminal_is_refused_untouched(tmp_path):
    path = str(tmp_path / "picker.db")
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(OutboxError, match="newer tote"):
        Outbox(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    assert db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()
