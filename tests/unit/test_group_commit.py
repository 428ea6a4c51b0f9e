"""The SQLite writer's group commit: each command isolated, a cancelled caller never breaks it —
in a thread and in a process of its own (`tote serve --sqlite-writer`).

Commands are the catalog's own (UpsertProduct, UpsertFc, ReceiveStock) and a few test-only ones
whose handlers are registered below: this module's import registers them, in the test's process
and in the writer process alike (the writer imports it to read them).
"""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.domain.errors import InvalidArgument, Unavailable
from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.models import FulfillmentCenter, Product
from core.service import bus
from core.service.catalog import FcData, ProductData
from core.service.deps import Deps
from core.service.handlers.catalog import ReceiveStock, UpsertFc, UpsertProduct
from server.dbexec import DbExecutor

ROOT = Path(__file__).resolve().parents[2]
WRITERS = ["thread", "process"]


# -- test-only commands ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RenameFc(Command[None]):
    fc_id: str
    name: str


@dataclass(frozen=True, slots=True)
class RenameFcThenRefuse(Command[None]):
    fc_id: str


@dataclass(frozen=True, slots=True)
class Echo(Command[str]):
    value: str


@dataclass(frozen=True, slots=True)
class Unhandled(Command[None]):
    """A command nobody registered a handler for."""


@dataclass(frozen=True, slots=True)
class HoldsALock(Command[None]):
    lock: object  # a threading.Lock: does not pickle


def _rename_fc(session: Session, cmd: RenameFc, deps: Deps) -> None:
    fc = session.get(FulfillmentCenter, cmd.fc_id)
    assert fc is not None
    fc.name = cmd.name  # an ORM change, not flushed


def _rename_fc_then_refuse(session: Session, cmd: RenameFcThenRefuse, deps: Deps) -> None:
    fc = session.get(FulfillmentCenter, cmd.fc_id)
    assert fc is not None
    fc.name = "refused"
    session.flush()  # written, then refused: the command's change must be rolled back
    raise InvalidArgument(f"{cmd.fc_id} is not to be renamed", field="fc_id")


def _echo(session: Session, cmd: Echo, deps: Deps) -> str:
    return cmd.value


bus.HANDLERS.update({RenameFc: _rename_fc, RenameFcThenRefuse: _rename_fc_then_refuse,
                     Echo: _echo})


def _product(i: int, name: str = "Mug") -> UpsertProduct:
    return UpsertProduct(ProductData(f"SKU-{i}", name, "4006381333931", 100, "INR", 300))


def _fc(fc_id: str, name: str = "old") -> UpsertFc:
    return UpsertFc(FcData(fc_id, name, 1.0, 1.0, 16, 10, {}))


def _products(session: Session) -> int:
    return session.query(Product).count()


def _fc_names(session: Session) -> set[str]:
    return {fc.name for fc in session.query(FulfillmentCenter)}


def _database(path: Path) -> Database:
    migrate.upgrade(str(path))
    return Database(str(path))


@pytest.fixture(params=WRITERS)
async def dbx(tmp_path, request):  # type: ignore[no-untyped-def]
    db = _database(tmp_path / "g.db")
    executor = DbExecutor(db, writer=request.param)
    yield executor
    await asyncio.to_thread(executor.shutdown)
    db.dispose()


@pytest.fixture
async def proc_dbx(tmp_path):  # type: ignore[no-untyped-def]
    db = _database(tmp_path / "p.db")
    executor = DbExecutor(db, writer="process")
    yield executor
    await asyncio.to_thread(executor.shutdown)
    db.dispose()


# -- either writer --------------------------------------------------------------------------------

async def test_a_failing_command_is_rolled_back_alone_and_the_others_commit(dbx):
    await dbx.execute(_fc("FC-1"))
    commands = [_product(k) if k % 5 else RenameFcThenRefuse("FC-1") for k in range(50)]
    results = await asyncio.gather(*(dbx.execute(c) for c in commands), return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 10 and all(isinstance(r, InvalidArgument) for r in failed)
    assert await dbx.read(_products) == 40
    assert await dbx.read(_fc_names) == {"old"}  # each refusal's write was rolled back


async def test_a_cancelled_caller_does_not_stop_the_writer(dbx):
    tasks = [asyncio.ensure_future(dbx.execute(_product(k))) for k in range(200)]
    await asyncio.sleep(0)
    for task in tasks[::3]:
        task.cancel()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    # The writer still takes work after callers gave up mid-queue.
    stored = await asyncio.wait_for(dbx.execute(_product(10_000)), 5)
    assert stored.sku == "SKU-10000"
    done = sum(1 for t in tasks if not t.cancelled())
    assert await dbx.read(_products) >= done + 1


async def test_a_command_without_a_handler_is_refused_by_name_and_the_writer_goes_on(dbx):
    with pytest.raises(TypeError, match="no handler for the command Unhandled"):
        await dbx.execute(Unhandled())
    assert (await dbx.execute(_product(1))).sku == "SKU-1"


async def test_orm_changes_of_every_command_in_a_group_are_committed(dbx):
    await asyncio.gather(*(dbx.execute(_fc(f"FC-{i}")) for i in range(20)))
    # Many at once, so they share groups with other commands.
    await asyncio.gather(*(dbx.execute(RenameFc(f"FC-{i}", "new")) for i in range(20)),
                         *(dbx.execute(Echo("")) for _ in range(20)))
    assert await dbx.read(_fc_names) == {"new"}


async def test_an_orm_change_alone_in_its_group_is_committed(dbx):
    """One command at a time (each a group of one, run on the writer's own connection): its
    pending ORM changes are flushed before the commit, not dropped with the session."""
    await dbx.execute(_fc("FC-1"))
    await dbx.execute(RenameFc("FC-1", "new"))
    assert await dbx.read(_fc_names) == {"new"}
    with pytest.raises(InvalidArgument):
        await dbx.execute(RenameFcThenRefuse("FC-1"))  # rolled back whole
    assert await dbx.read(_fc_names) == {"new"}


# -- the writer in a process of its own ---------------------------------------------------------

async def test_a_domain_error_comes_back_from_the_writer_process_as_itself(proc_dbx):
    await proc_dbx.execute(_fc("FC-1"))
    with pytest.raises(InvalidArgument) as caught:
        await proc_dbx.execute(ReceiveStock("FC-1", "NOPE", 0, ""))
    assert caught.value.field == "quantity" and "quantity must be" in str(caught.value)
    with pytest.raises(InvalidArgument) as refused:
        await proc_dbx.execute(RenameFcThenRefuse("FC-1"))
    assert refused.value.field == "fc_id" and "FC-1 is not to be renamed" in str(refused.value)
    assert await proc_dbx.read(_fc_names) == {"old"}  # its change was rolled back


async def test_a_command_that_does_not_pickle_is_refused_naming_it_and_nothing_runs(proc_dbx):
    with pytest.raises(RuntimeError, match="HoldsALock: does not pickle"):
        await proc_dbx.execute(HoldsALock(threading.Lock()))
    assert (await proc_dbx.execute(_product(1))).sku == "SKU-1"  # the writer goes on
    assert await proc_dbx.read(_products) == 1


async def test_a_command_the_writer_cannot_read_is_refused_alone(proc_dbx, tmp_path,
                                                                 monkeypatch):
    """A command class the writer process cannot import (here: a module on this process's
    path only) is answered with an error; the commands beside it run."""
    (tmp_path / "parent_only.py").write_text(
        "from dataclasses import dataclass\n"
        "from core.domain.commands import Command\n"
        "@dataclass(frozen=True, slots=True)\n"
        "class Elsewhere(Command[None]):\n"
        "    k: int\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from parent_only import Elsewhere  # type: ignore[import-not-found]  # made just above

    results = await asyncio.gather(proc_dbx.execute(_product(1)), proc_dbx.execute(Elsewhere(1)),
                                   proc_dbx.execute(_product(2)), return_exceptions=True)
    assert [r.sku for r in results if isinstance(r, Product)] == ["SKU-1", "SKU-2"]
    assert isinstance(results[1], RuntimeError)
    assert "could not read the command" in str(results[1])
    assert await proc_dbx.read(_products) == 2


async def test_a_killed_writer_process_answers_unavailable_never_hangs(proc_dbx, tmp_path):
    # Another connection holds SQLite's write lock: the writer waits for it inside the command.
    blocker = sqlite3.connect(str(tmp_path / "p.db"), timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        waiting = asyncio.ensure_future(proc_dbx.execute(_product(1)))
        for _ in range(100):  # sent; the writer cannot answer while the lock is held
            await asyncio.sleep(0)
        assert not waiting.done()
        os.kill(proc_dbx._process._proc.pid, signal.SIGKILL)
        with pytest.raises(Unavailable, match="database writer stopped"):
            await asyncio.wait_for(waiting, 10)
        with pytest.raises(Unavailable):
            await asyncio.wait_for(proc_dbx.execute(_product(2)), 10)
    finally:
        blocker.rollback()
        blocker.close()


async def test_shutdown_finishes_the_commands_already_sent(tmp_path):
    db = _database(tmp_path / "s.db")
    executor = DbExecutor(db, writer="process")
    jobs = [asyncio.ensure_future(executor.execute(_product(k))) for k in range(100)]
    await asyncio.sleep(0)  # sent
    stopping = asyncio.ensure_future(asyncio.to_thread(executor.shutdown))
    stored = await asyncio.wait_for(asyncio.gather(*jobs), 30)
    assert sorted(p.sku for p in stored) == sorted(f"SKU-{k}" for k in range(100))
    await stopping
    with db.read() as s:
        assert _products(s) == 100
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


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_big_commands_and_big_answers_cross_whole_on_either_event_loop(tmp_path, loop):
    """Megabytes each way (a 10,000-line order): read in pieces, never mistaken for an end."""
    import uvloop

    async def main() -> None:
        db = Database(str(tmp_path / "big.db"))
        executor = DbExecutor(db, writer="process")
        try:
            big = [("é" * 1000 + str(i)) * 2000 for i in range(3)]
            assert await asyncio.gather(*(executor.execute(Echo(b)) for b in big)) == big
            assert await executor.execute(Echo("small")) == "small"
        finally:
            await asyncio.to_thread(executor.shutdown)
            db.dispose()

    (uvloop.run if loop == "uvloop" else asyncio.run)(main())
