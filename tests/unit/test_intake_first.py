"""Orders first (server/intake.py): saga passes give way to PlaceOrder calls, never stop."""

import asyncio
import time

import pytest

from server.intake import IntakeFirst


async def _admitted_within(gate: IntakeFirst, seconds: float, waited: float = 0.0) -> int:
    """How many passes the gate lets through in `seconds`, asked one after another (the
    oldest waiting saga having waited `waited` seconds)."""
    n = 0

    async def keep_asking() -> None:
        nonlocal n
        while True:
            await gate.admit(lambda: waited)
            n += 1
            await asyncio.sleep(0)  # a pass admitted at once does not yield by itself

    task = asyncio.create_task(keep_asking())
    await asyncio.sleep(seconds)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return n


async def test_with_no_order_arriving_passes_start_at_once():
    gate = IntakeFirst(min_rate=5, quiet_s=0.01)
    assert await _admitted_within(gate, 0.05) > 100
    assert gate.gave_way == 0


async def test_while_an_order_is_being_placed_passes_start_at_the_minimum_rate():
    gate = IntakeFirst(min_rate=20, quiet_s=0.01)
    started = time.monotonic()
    with gate.placing():
        n = await _admitted_within(gate, 0.5)
    elapsed = time.monotonic() - started
    # One token in hand, then twenty a second: never a free-for-all, never a full stop.
    assert 2 <= n <= 2 + 20 * elapsed
    assert gate.gave_way >= n - 1


async def test_waiting_passes_start_as_soon_as_orders_stop_arriving():
    gate = IntakeFirst(min_rate=0.5, quiet_s=0.02)
    with gate.placing():
        await gate.admit()  # the one token in hand
        waiting = asyncio.create_task(gate.admit())
        await asyncio.sleep(0.1)
        assert not waiting.done()  # the next token is two seconds away
    ended = time.monotonic()
    await asyncio.wait_for(waiting, 1.0)
    # Let in once the calls have been quiet for quiet_s, not at the next token.
    assert 0.015 <= time.monotonic() - ended < 0.5


async def test_an_order_arriving_again_within_the_quiet_time_keeps_the_saga_waiting():
    gate = IntakeFirst(min_rate=0.5, quiet_s=0.2)
    with gate.placing():
        await gate.admit()
    waiting = asyncio.create_task(gate.admit())
    await asyncio.sleep(0.05)
    with gate.placing():  # the storefront's next call, before the quiet time is up
        await asyncio.sleep(0.3)
    assert not waiting.done()
    await asyncio.wait_for(waiting, 1.0)


async def test_a_saga_that_has_waited_too_long_no_longer_gives_way():
    gate = IntakeFirst(min_rate=1, quiet_s=0.01, max_wait_s=5)
    with gate.placing():
        assert await _admitted_within(gate, 0.05, waited=5.1) > 100


async def test_a_waiting_saga_starts_when_it_has_waited_too_long_though_orders_keep_coming():
    gate = IntakeFirst(min_rate=0.5, quiet_s=0.01, max_wait_s=0.2)
    queued_at = time.monotonic()
    with gate.placing():
        await gate.admit()  # the one token in hand
        await asyncio.wait_for(gate.admit(lambda: time.monotonic() - queued_at), 1.0)
        assert 0.19 <= time.monotonic() - queued_at < 0.6


async def test_orders_arriving_with_gaps_between_them_leave_the_saga_its_pace():
    """A storefront placing an order every 20 ms (each answered in ~3 ms): the saga starts
    its passes in the gaps, far above the minimum rate."""
    gate = IntakeFirst(min_rate=1, quiet_s=0.005)

    async def storefront() -> None:
        while True:
            with gate.placing():
                await asyncio.sleep(0.003)
            await asyncio.sleep(0.017)

    orders = asyncio.create_task(storefront())
    try:
        assert await _admitted_within(gate, 0.5) > 50
    finally:
        orders.cancel()


def test_the_saga_may_not_be_stopped_altogether():
    with pytest.raises(ValueError, match="above 0"):
        IntakeFirst(min_rate=0)
