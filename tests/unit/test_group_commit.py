"""The SQLite writer's group commit: each job isolated, a cancelled caller never breaks it —
in a thread and in a process of its own (`tote serve --sqlite-writer`)."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from core.domain.errors import InvalidArgument, Unavailable
from core.persistence.db import Database
from server.dbexec import DbExecutor

ROOT = Path(__file__).resolve().parents[2]


WRITERS = ["thread", "process"]


@pytest.fixture(params=WRITERS)
async def dbx(tmp_path, request):  # type: ignore[no-untyped-def]
    db = Database(str(tmp_path / "g.db"))
    with db.write() as s:
        s.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    executor = DbExecutor(db, writer=request.param)
    yield executor
    await asyncio.to_thread(executor.shutdown)
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


@pytest.mark.parametrize("writer", WRITERS)
async def test_orm_changes_of_every_job_in_a_group_are_committed(tmp_path, writer):
    from core.persistence import migrate
    from core.service.catalog import FcData, upsert_fc

    path = str(tmp_path / "orm.db")
    migrate.upgrade(path)
    db = Database(path)
    executor = DbExecutor(db, writer=writer)
    try:
        await asyncio.gather(*(executor.write(upsert_fc, FcData(
            f"FC-{i}", "old", 1.0, 1.0, 16, 10, {})) for i in range(20)))

        # Many at once, so they share groups with other jobs.
        await asyncio.gather(*(executor.write(rename, f"FC-{i}") for i in range(20)),
                             *(executor.write(_noop) for _ in range(20)))
        assert await executor.read(read_names) == {"new"}
    finally:
        await asyncio.to_thread(executor.shutdown)
        db.dispose()


@pytest.mark.parametrize("writer", WRITERS)
async def test_an_orm_change_alone_in_its_group_is_committed(tmp_path, writer):
    """One job at a time (each a group of one, run on the writer's own connection): its
    pending ORM changes are flushed before the commit, not dropped with the session."""
    from core.persistence import migrate
    from core.service.catalog import FcData, upsert_fc

    path = str(tmp_path / "alone.db")
    migrate.upgrade(path)
    db = Database(path)
    executor = DbExecutor(db, writer=writer)
    try:
        await executor.write(upsert_fc, FcData("FC-1", "old", 1.0, 1.0, 16, 10, {}))
        await executor.write(rename, "FC-1")
        assert await executor.read(read_names) == {"new"}
        await executor.write(rename_then_refuse, "FC-1")  # rolled back whole
    except InvalidArgument:
        assert await executor.read(read_names) == {"new"}
    else:
        pytest.fail("the refusing job did not raise")
    finally:
        await asyncio.to_thread(executor.shutdown)
        db.dispose()


def rename_then_refuse(session, fc_id: str) -> None:  # type: ignore[no-untyped-def]
    from core.persistence.models import FulfillmentCenter

    session.get(FulfillmentCenter, fc_id).name = "newer"
    session.flush()
    raise InvalidArgument("not this one", field="fc_id")


def rename(session, fc_id: str) -> None:  # type: ignore[no-untyped-def]
    from core.persistence.models import FulfillmentCenter

    session.get(FulfillmentCenter, fc_id).name = "new"  # an ORM change, not flushed


def read_names(session) -> set[str]:  # type: ignore[no-untyped-def]
    from core.persistence.models import FulfillmentCenter

    return {fc.name for fc in session.query(FulfillmentCenter)}


def _noop(session) -> None:  # type: ignore[no-untyped-def]
    return None



# -- the writer in a process of its own ---------------------------------------------------------

def _refuse(session, k: int) -> None:  # type: ignore[no-untyped-def]
    _insert(session, k)
    raise InvalidArgument(f"k {k} is not wanted", field="k")


def _sleep_then_insert(session, k: int, seconds: float,  # type: ignore[no-untyped-def]
                       started: str = "") -> int:
    if started:
        Path(started).touch()  # tells the test the job is running in the writer
    time.sleep(seconds)
    return _insert(session, k)


@pytest.fixture
async def proc_dbx(tmp_path):  # type: ignore[no-untyped-def]
    db = Database(str(tmp_path / "p.db"))
    with db.write() as s:
        s.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    executor = DbExecutor(db, writer="process")
    yield executor
    await asyncio.to_thread(executor.shutdown)
    db.dispose()


async def test_a_domain_error_comes_back_from_the_writer_process_as_itself(proc_dbx):
    with pytest.raises(InvalidArgument) as caught:
        await proc_dbx.write(_refuse, 7)
    assert caught.value.field == "k" and "k 7 is not wanted" in str(caught.value)
    assert await proc_dbx.read(_count) == 0  # its insert was rolled back


async def test_arguments_that_do_not_pickle_are_refused_naming_the_job_and_nothing_runs(
        proc_dbx):
    with pytest.raises(RuntimeError, match="_insert: arguments do not pickle"):
        await proc_dbx.write(_insert, threading.Lock())
    assert await proc_dbx.write(_insert, 1) == 1  # the writer goes on
    assert await proc_dbx.read(_count) == 1


async def test_a_killed_writer_process_answers_unavailable_never_hangs(proc_dbx, tmp_path):
    started = tmp_path / "started"
    slow = asyncio.ensure_future(proc_dbx.write(_sleep_then_insert, 1, 30.0, str(started)))
    for _ in range(1000):  # until the job is in the writer, sleeping (10 s at most)
        if started.exists():
            break
        await asyncio.sleep(0.01)
    assert started.exists(), "the job never reached the writer process"
    os.kill(proc_dbx._process._proc.pid, signal.SIGKILL)
    with pytest.raises(Unavailable, match="database writer stopped"):
        await asyncio.wait_for(slow, 10)
    with pytest.raises(Unavailable):
        await asyncio.wait_for(proc_dbx.write(_insert, 2), 10)


async def test_shutdown_finishes_the_jobs_already_sent(tmp_path):
    db = Database(str(tmp_path / "s.db"))
    with db.write() as s:
        s.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    executor = DbExecutor(db, writer="process")
    jobs = [asyncio.ensure_future(executor.write(_insert, k)) for k in range(100)]
    await asyncio.sleep(0)  # sent
    stopping = asyncio.ensure_future(asyncio.to_thread(executor.shutdown))
    assert sorted(await asyncio.wait_for(asyncio.gather(*jobs), 30)) == list(range(100))
    await stopping
    with db.read() as s:
        assert _count(s) == 100
    db.dispose()


def test_the_writer_process_exits_when_its_parent_is_killed(tmp_path):
    """A `tote serve` killed outright (SIGKILL) leaves no writer behind holding the file."""
    script = f"""
import asyncio, os, sys
sys.path.insert(0, {str(ROOT)!r})
from core.persistence.db import Database
from server.dbexec import DbExecutor

async def main():
    executor = DbExecutor(Database({str(tmp_path / "k.db")!r}), writer="process")
    print(executor._process._proc.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert _alive(child)
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the writer process outlived its parent"
    finally:
        parent.kill()
        parent.wait(10)
        parent.stdout.close()  # type: ignore[union-attr]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def _echo(session, value: str) -> str:  # type: ignore[no-untyped-def]
    return value


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_big_jobs_and_big_answers_cross_whole_on_either_event_loop(tmp_path, loop):
    """Megabytes each way (a 10,000-line order): read in pieces, never mistaken for an end."""
    import uvloop

    async def main() -> None:
        db = Database(str(tmp_path / "big.db"))
        executor = DbExecutor(db, writer="process")
        try:
            big = [("é" * 1000 + str(i)) * 2000 for i in range(3)]
            assert await asyncio.gather(*(executor.write(_echo, b) for b in big)) == big
            assert await executor.write(_echo, "small") == "small"
        finally:
            await asyncio.to_thread(executor.shutdown)
            db.dispose()

    (uvloop.run if loop == "uvloop" else asyncio.run)(main())
