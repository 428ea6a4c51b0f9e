"""Tote codes: each pick task's tote gets a short code ("T-0042") that the packer scans instead
of the task id; codes never repeat, also when two replicas on PostgreSQL create tasks at once,
and migration 0006 numbers the tasks that were there before it."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import grpc
import pytest
from sqlalchemy import MetaData, Table, create_engine, insert, select

from core.domain.ids import new_id
from core.domain.totes import tote_code, tote_number
from core.persistence import migrate
from core.persistence.db import normalize_url
from core.persistence.fulfillment_models import PickTask
from core.service.totes import next_tote_number
from tests.conftest import database_at, drop_pg_database, fresh_pg_database
from tests.harness import unique
from tests.integration.test_pack_list import item, pack_lists
from tests.integration.test_picking import next_task, picker, ready_order, refused, scan

TASKS = PickTask.__table__


def test_a_tote_code_is_short_and_reads_back_as_typed_or_scanned():
    assert tote_code(42) == "T-0042" and tote_code(123456) == "T-123456"
    for typed in ("T-0042", "t42", "T0042", " T-42 ", "t 0042"):
        assert tote_number(typed) == 42, typed
    for other in ("T-", "T-0", "ord_T42", "pt_01ABC", "42", "TT-42", "T-42x"):
        assert tote_number(other) is None, other


def test_a_pick_task_has_a_tote_code_and_the_packer_finds_the_tote_by_it(tote, admin, shop, fc):
    mug, gtin = item(admin, fc, 5, "A-01-1", 350)
    order_id = ready_order(shop, [(mug, 1)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    assert re.fullmatch(r"T-\d{4,}", task.tote_code), task.tote_code
    scan(p, task.task_id, gtin)
    by_task = pack_lists(p, task_id=task.task_id)
    assert [pl.order_id for pl in by_task] == [order_id]
    assert pack_lists(p, tote_code=task.tote_code) == by_task
    number = tote_number(task.tote_code)
    assert pack_lists(p, tote_code=f"t{number}") == by_task  # typed by hand
    # Another FC's handheld may not look into this tote.
    other = unique("FC")
    admin.fc(other)
    refused(lambda: pack_lists(picker(tote, other), tote_code=task.tote_code),
            grpc.StatusCode.PERMISSION_DENIED)


def test_tote_codes_never_repeat_and_unknown_or_malformed_ones_are_refused(
        tote, admin, shop, fc):
    mug, _ = item(admin, fc, 9, "A-01-1", 350)
    p = picker(tote, fc)
    codes = []
    for _ in range(3):
        ready_order(shop, [(mug, 1)])
        codes.append(next_task(p, fc).tote_code)
    numbers = [tote_number(c) for c in codes]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3, codes
    missing = tote_code(max(numbers) + 1000)  # type: ignore[type-var, operator]
    assert "no tote" in refused(lambda: pack_lists(p, tote_code=missing),
                                grpc.StatusCode.NOT_FOUND)
    assert "T-0042" in refused(lambda: pack_lists(p, tote_code="crate 7"),
                               grpc.StatusCode.INVALID_ARGUMENT)
    assert "exactly one" in refused(
        lambda: pack_lists(p, tote_code=codes[0], order_id="ord_X"),
        grpc.StatusCode.INVALID_ARGUMENT)


db_at_0005 = database_at("0005")  # before tote codes


def _task(created: datetime) -> dict[str, object]:
    return {"task_id": new_id("pt"), "fc_id": "FC-OLD", "picker": "p", "status": "done",
            "created_at": created, "touched_at": created}


def test_migration_0006_numbers_the_tasks_before_it_oldest_first_and_goes_back_down(
        db_at_0005):
    engine = create_engine(normalize_url(db_at_0005))
    try:
        newer, older = (_task(datetime(2026, 12, 2, tzinfo=UTC)),
                        _task(datetime(2026, 12, 1, tzinfo=UTC)))
        with engine.begin() as conn:
            before = Table("pick_tasks", MetaData(), autoload_with=conn)  # (no tote_no yet)
            conn.execute(insert(before), [newer, older])
        migrate.upgrade(db_at_0005)
        migrate.check(db_at_0005)
        with engine.begin() as conn:
            numbered = dict(conn.execute(select(TASKS.c.task_id, TASKS.c.tote_no)).all())
            assert numbered == {older["task_id"]: 1, newer["task_id"]: 2}
            assert next_tote_number(conn) == 3  # the next task carries on after them
        migrate.downgrade(db_at_0005, "0005")
        with engine.begin() as conn:
            old = Table("pick_tasks", MetaData(), autoload_with=conn)
            assert "tote_no" not in old.c
            assert len(conn.execute(select(old)).all()) == 2
        migrate.upgrade(db_at_0005)  # and up again: the sequence was dropped with the column
        with engine.begin() as conn:
            assert next_tote_number(conn) == 3
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_replicas_creating_tasks_at_once_on_postgresql_draw_different_tote_numbers(pg_server):
    """Eight transactions each draw a number and insert their task, all before any commits
    (as two replicas claiming work at the same moment would): none waits, none repeats."""
    url, name = fresh_pg_database(pg_server)
    try:
        migrate.upgrade(url)
        engine = create_engine(normalize_url(url), pool_size=8)
        all_drawn = threading.Barrier(8, timeout=30)
        numbers: list[int] = []
        errors: list[BaseException] = []

        def replica() -> None:
            try:
                with engine.begin() as conn:
                    number = next_tote_number(conn)
                    conn.execute(insert(TASKS).values(
                        **_task(datetime.now(UTC)), tote_no=number))
                    all_drawn.wait()  # every transaction is open with its row inserted
                    numbers.append(number)
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=replica) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        engine.dispose()
        assert errors == [] and sorted(numbers) == list(range(1, 9))
    finally:
        drop_pg_database(name)
