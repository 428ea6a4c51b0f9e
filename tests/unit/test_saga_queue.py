"""The saga queue (server/saga.py): orders first is its own admission policy — PlaceOrder tells
the queue, queued passes give way, urgent kicks never wait — and a pass that waits on an
answer is due again when its step says. The policy's rates and waits are stated exactly in
tests/unit/test_intake_first.py; these tests show the queue applies it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from core.domain.events import EventType
from core.domain.saga import StepOutcome
from core.domain.saga_commands import RescheduleSaga
from core.saga.runner import Answer, SagaTable, Step
from server.saga import SagaRunner
from server.settings import Settings


class Db:
    is_sqlite = False


class Dbx:
    """Records the commands the queue makes (no saga is ever due in its database)."""

    db = Db()

    def __init__(self) -> None:
        self.commands: list[Any] = []

    async def execute(self, cmd: Any) -> Any:
        self.commands.append(cmd)
        return []


def waiting_saga(started: list[str]) -> SagaTable[Any]:
    """A saga of one step that records each pass's start and waits 3 s for an answer."""
    async def action(key: str) -> Answer[Any]:
        started.append(key)
        return Answer(retry_in=3.0)

    async def load(key: str) -> str:
        return key

    async def cancel(st: str, why: str) -> None:
        raise AssertionError("nothing fails here")

    return SagaTable(
        name="test", steps=(Step("answer", action=action,
                                 outcome=lambda st: StepOutcome.RUNNING, succeeded=None,
                                 failed=None, compensation=None, compensated=None),),
        side_by_side=False, load=load, in_play=lambda st: True,
        cancel_requested=lambda st: False, complete=None,
        completed=(EventType.ORDER_READY_FOR_FULFILLMENT,), cancel=cancel, cancelled=())


async def until(done: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Return once `done()` holds, letting the loop run meanwhile; the deadline only catches
    a hang."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    while not done():
        assert loop.time() < end, "the queue never got there"
        await asyncio.sleep(0)


async def settled_loop(turns: int = 100) -> None:
    """Let every task that can run, run (no time passes for the queue's policy to count)."""
    for _ in range(turns):
        await asyncio.sleep(0)


def queue(started: list[str], **settings: Any) -> tuple[SagaRunner, Dbx]:
    dbx = Dbx()
    s = replace(Settings(), saga_scan_interval_s=60.0, **settings)
    return SagaRunner(dbx, waiting_saga(started), s), dbx  # type: ignore[arg-type]  # fakes


def test_queued_passes_give_way_while_an_order_is_placed_and_start_when_it_ends():
    async def main() -> None:
        started: list[str] = []
        q, _ = queue(started, saga_min_rate=0.1, saga_max_wait_s=600.0)
        await q.start()
        try:
            with q.placing():
                for order_id in ("a", "b", "c"):
                    q.kick(order_id)
                await until(lambda: started == ["a"])
                await settled_loop()
                # One token in hand, the next ten seconds away: one pass, two waiting.
                assert started == ["a"] and q.backlog == 2
            # Quiet: the rest start, oldest first.
            await until(lambda: len(started) == 3)
            assert started == ["a", "b", "c"] and q.backlog == 0
        finally:
            await q.stop()
    asyncio.run(main())


def test_an_urgent_kick_does_not_wait_behind_the_orders():
    async def main() -> None:
        started: list[str] = []
        q, _ = queue(started, saga_min_rate=0.1, saga_max_wait_s=600.0)
        await q.start()
        try:
            with q.placing():
                q.kick("a")
                q.kick("b")
                await until(lambda: started == ["a"])
                q.kick("cancelled", urgent=True)  # a cancellation, a payment's answer
                await until(lambda: len(started) == 2)
                await settled_loop()
                assert started == ["a", "cancelled"] and q.backlog == 1
        finally:
            await q.stop()
    asyncio.run(main())


def test_without_orders_first_placing_an_order_holds_nothing_back():
    async def main() -> None:
        started: list[str] = []
        q, _ = queue(started, orders_first=False)
        await q.start()
        try:
            with q.placing():
                for order_id in ("a", "b", "c"):
                    q.kick(order_id)
                await until(lambda: len(started) == 3)
                assert started == ["a", "b", "c"]
        finally:
            await q.stop()
    asyncio.run(main())


def test_a_pass_waiting_on_an_answer_is_due_again_when_its_step_wants_another_look():
    async def main() -> None:
        started: list[str] = []
        q, dbx = queue(started, orders_first=False)
        await q.start()
        try:
            before = datetime.now().astimezone()
            q.kick("a")
            await q.settle("a")
            (cmd,) = [c for c in dbx.commands if isinstance(c, RescheduleSaga)]
            assert cmd.order_id == "a" and cmd.due is not None
            assert 2.5 <= (cmd.due - before).total_seconds() <= 4.0
        finally:
            await q.stop()
    asyncio.run(main())


def test_a_kick_during_a_pass_runs_one_more_pass_right_after_it():
    async def main() -> None:
        started: list[str] = []
        q, _ = queue(started, orders_first=False)
        await q.start()
        try:
            q.kick("a", urgent=True)
            q.kick("a")  # while the first pass runs
            q.kick("a")  # (once more is enough)
            await until(lambda: len(started) == 2)
            await q.settle("a")
            await settled_loop()
            assert started == ["a", "a"]
        finally:
            await q.stop()
    asyncio.run(main())
