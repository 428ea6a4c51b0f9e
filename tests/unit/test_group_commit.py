"""The SQLite writer's group commit: each job isolated, a cancelled caller never breaks it."""

import asyncio

import pytest
from sqlalchemy import text

from core.persistence.db import Database
from server.dbexec import DbExecutor


@pytest.fixture
def dbx(tmp_path):  # type: ignore[no-untyped-def]
    db = Database(str(tmp_path / "g.db"))
    with db.write() as s:
        s.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    executor = DbExecutor(db)
    yield executor
    executor.shutdown()
    db.dispose()


def _insert(session, k: int) -> int:  # type: ignore[no-untyped-def]
    session.execute(text("INSERT INTO t (k, v) VALUES (:k, 'x')"), {"k": k})
    return k


def _count(session) -> int:  # type: ignore[no-untyped-def]
    return session.execute(text("SELECT count(*) FROM t")).scalar_one()


async def test_a_failing_job_is_rolled_back_alone_and_the_others_commit(dbx):
    results = await asyncio.gather(*(dbx.write(_insert, k % 40) for k in range(50)),
                                   return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 10  # the ten duplicate keys, each refused on its own
    assert await dbx.read(_count) == 40


async def test_a_cancelled_caller_does_not_stop_the_writer(dbx):
    tasks = [asyncio.ensure_future(dbx.write(_insert, k)) for k in range(200)]
    await asyncio.sleep(0)
    for task in tasks[::3]:
        task.cancel()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    # The writer still takes work after callers gave up mid-queue.
    assert await asyncio.wait_for(dbx.write(_insert, 10_000), 5) == 10_000
    done = sum(1 for t in tasks if not t.cancelled())
    assert await dbx.read(_count) >= done + 1


async def test_orm_changes_of_every_job_in_a_group_are_committed(tmp_path):
    from core.persistence import migrate
    from core.persistence.models import FulfillmentCenter
    from core.service.catalog import FcData, upsert_fc

    path = str(tmp_path / "orm.db")
    migrate.upgrade(path)
    db = Database(path)
    executor = DbExecutor(db)
    try:
        await asyncio.gather(*(executor.write(upsert_fc, FcData(
            f"FC-{i}", "old", 1.0, 1.0, 16, 10, {})) for i in range(20)))

        def rename(session, fc_id: str) -> None:  # type: ignore[no-untyped-def]
            session.get(FulfillmentCenter, fc_id).name = "new"  # an ORM change, not flushed

        def read_names(session) -> set[str]:  # type: ignore[no-untyped-def]
            return {fc.name for fc in session.query(FulfillmentCenter)}

        # Many at once, so they share groups with other jobs.
        await asyncio.gather(*(executor.write(rename, f"FC-{i}") for i in range(20)),
                             *(executor.write(_noop) for _ in range(20)))
        assert await executor.read(read_names) == {"new"}
    finally:
        executor.shutdown()
        db.dispose()


def _noop(session) -> None:  # type: ignore[no-untyped-def]
    return None
