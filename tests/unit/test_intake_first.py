"""Orders first (server/intake.py): saga passes give way to PlaceOrder calls, never stop.

The gate's clock and its waits run on a virtual clock (an event loop whose time jumps to the
next timer when nothing is ready), so rates and waits are exact and independent of the
machine's load: these tests state the rules in virtual seconds, not wall-clock ones.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from server.intake import OrdersFirst

PASS_S = 0.001  # what one saga pass costs, in virtual seconds


class _VirtualSelector(selectors.DefaultSelector):
    """Polls for real I/O without blocking; a wait for a timer advances the virtual clock."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None):  # type: ignore[no-untyped-def]
        events = super().select(0)
        if not events:
            if timeout is None:
                raise RuntimeError("nothing ready and no timer due: the test would hang")
            # At least a nanosecond per idle turn, as a real clock moves on: a token due in
            # 1e-17 s (float residue) would otherwise never come due.
            self.now += max(timeout, 1e-9)
        return events


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose time() is virtual: it jumps to the next timer when all is idle."""

    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(selector=self._virtual)

    def time(self) -> float:
        return self._virtual.now


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop = VirtualClockLoop()
    try:
        loop.run_until_complete(test())
    finally:
        loop.close()


def now() -> float:
    return asyncio.get_running_loop().time()


def gate_on_the_loop(**kw: Any) -> OrdersFirst:
    return OrdersFirst(clock=now, **kw)


async def _admitted_within(gate: OrdersFirst, seconds: float, waited: float = 0.0) -> int:
    """How many passes (each PASS_S long) the gate lets through in `seconds`, asked one after
    another (the oldest waiting saga having waited `waited` seconds)."""
    n = 0

    async def keep_asking() -> None:
        nonlocal n
        while True:
            await gate.admit(lambda: waited)
            n += 1
            await asyncio.sleep(PASS_S)

    task = asyncio.create_task(keep_asking())
    await asyncio.sleep(seconds)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return n


def test_with_no_order_arriving_passes_start_at_once():
    async def main() -> None:
        gate = gate_on_the_loop(min_rate=5, quiet_s=0.01)
        # Back to back, as fast as the passes themselves go: 50 passes of 1 ms in 50 ms.
        assert await _admitted_within(gate, 0.05 - PASS_S / 2) == 50
        assert gate.gave_way == 0
    run(main)


def test_while_an_order_is_being_placed_passes_start_at_the_minimum_rate():
    async def main() -> None:
        gate = gate_on_the_loop(min_rate=20, quiet_s=0.01)
        with gate.placing():
            n = await _admitted_within(gate, 0.5 - PASS_S / 2)
        # One token in hand, then twenty a second: never a free-for-all, never a full stop.
        # Passes at 0, 0.05, …, 0.45 s: ten in the half second.
        assert n == 10
        assert gate.gave_way == n - 1
    run(main)


def test_waiting_passes_start_as_soon_as_orders_stop_arriving():
    async def main() -> None:
        gate = gate_on_the_loop(min_rate=0.5, quiet_s=0.02)
        with gate.placing():
            await gate.admit()  # the one token in hand
            waiting = asyncio.create_task(gate.admit())
            await asyncio.sleep(0.1)
            assert not waiting.done()  # the next token is two seconds away
        ended = now()
        await waiting
        # Let in once the calls have been quiet for quiet_s, not at the next token.
        assert now() - ended == pytest.approx(0.02)
    run(main)


def test_an_order_arriving_again_within_the_quiet_time_keeps_the_saga_waiting():
    async def main() -> None:
        gate = gate_on_the_loop(min_rate=0.5, quiet_s=0.2)
        with gate.placing():
            await gate.admit()
        waiting = asyncio.create_task(gate.admit())
        await asyncio.sleep(0.05)
        with gate.placing():  # the storefront's next call, before the quiet time is up
            await asyncio.sleep(0.3)
        assert not waiting.done()
        await waiting
        # Started once that call had been quiet for 0.2 s (the next token was at 2 s).
        assert now() == pytest.approx(0.35 + 0.2)
    run(main)


def test_a_saga_that_has_waited_too_long_no_longer_gives_way():
    async def main() -> None:
        gate = gate_on_the_loop(min_rate=1, quiet_s=0.01, max_wait_s=5)
        with gate.placing():
            assert await _admitted_within(gate, 0.05 - PASS_S / 2, waited=5.1) == 50
        assert gate.gave_way == 0
    run(main)


def test_a_waiting_saga_starts_when_it_has_waited_too_long_though_orders_keep_coming():
    async def main() -> None:
        gate = gate_on_the_loop(min_rate=0.5, quiet_s=0.01, max_wait_s=0.2)
        queued_at = now()
        with gate.placing():
            await gate.admit()  # the one token in hand
            await gate.admit(lambda: now() - queued_at)
            assert now() - queued_at == pytest.approx(0.2)
    run(main)


def test_orders_arriving_with_gaps_between_them_leave_the_saga_its_pace():
    """A storefront placing an order every 20 ms (each answered in 3 ms): the saga starts
    its passes in the gaps, far above the minimum rate."""
    async def main() -> None:
        gate = gate_on_the_loop(min_rate=1, quiet_s=0.005)

        async def storefront() -> None:
            while True:
                with gate.placing():
                    await asyncio.sleep(0.003)
                await asyncio.sleep(0.017)

        orders = asyncio.create_task(storefront())
        try:
            # 0.5 s: at least 12 ms of each 20 ms is quiet, 12 passes of 1 ms in each gap.
            assert await _admitted_within(gate, 0.5) >= 25 * 10
        finally:
            orders.cancel()
    run(main)


def test_the_saga_may_not_be_stopped_altogether():
    with pytest.raises(ValueError, match="above 0"):
        OrdersFirst(min_rate=0)
