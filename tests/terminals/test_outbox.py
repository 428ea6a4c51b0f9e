"""The outbox keeps scans in order and the task in hand across a reopen of its file."""

from __future__ import annotations

from terminals.outbox import Outbox, Scan, Short
from tests.terminals.fake import task


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
