"""The event hub's wake-ups: a commit wakes the poller only when somebody watches, and every
watcher sees what was committed after it subscribed (server/hub.py), with real SQLite jobs."""

import asyncio
import threading

import pytest

from core.domain.errors import InvalidArgument
from core.service.deps import HandlerConfig
from core.service.handlers.orders import PlaceOrderAt
from core.service.orders import OrderSettings
from server import convert
from server.dbexec import DbExecutor, utcnow
from server.hub import EventHub
from tests.harness import cod, place_request


class _CountingEvent(asyncio.Event):
    sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def _cod_order() -> PlaceOrderAt:
    return PlaceOrderAt(convert.place_order_from_pb(place_request([("MUG", 1)], cod()), "shop"),
                        utcnow())


async def _place(dbx: DbExecutor) -> str:
    _snap, started = await dbx.execute(_cod_order())
    assert started is not None
    return started.order_id


def test_commits_wake_the_poller_only_while_somebody_watches(db):
    async def main() -> None:
        hub: EventHub
        woken_from: list[bool] = []  # True: the wake came on the loop's own thread

        def on_commit() -> None:
            on_loop = threading.get_ident() == loop_thread
            hub.wake()
            woken_from.append(on_loop)  # after wake(): whatever it scheduled is queued

        loop_thread = threading.get_ident()
        dbx = DbExecutor(db, on_commit=on_commit)  # the thread writer: commits off the loop
        hub = EventHub(dbx, interval_s=3600)  # only commits wake it
        hub._wake = wakes = _CountingEvent()
        await hub.start()
        try:
            await _place(dbx)
            # The writer thread calls on_commit after handing back the result: wait for it,
            # then let the loop run anything wake() queued (call_soon_threadsafe) before us.
            for _ in range(10_000):
                if woken_from:
                    break
                await asyncio.sleep(0.001)
            await asyncio.sleep(0)
            assert woken_from == [False]
            assert wakes.sets == 0, "a commit woke the poller with nobody watching"

            sub = await hub.subscribe(None)
            order_id = await _place(dbx)
            first = await asyncio.wait_for(hub.next(sub), 5)
            second = await asyncio.wait_for(hub.next(sub), 5)
            assert (first.order_id, first.type) == (order_id, "Order_Created")
            assert (second.order_id, second.type) == (order_id, "Payment_Authorized")

            # On the loop's own thread the poller is woken directly.
            before = wakes.sets
            hub.wake()
            assert wakes.sets == before + 1  # at once, not on a later turn of the loop

            hub.unsubscribe(sub)
            assert hub._last_id is None  # the next subscriber starts from "now"
            unseen = await _place(dbx)  # committed while nobody watches
            late = await hub.subscribe(unseen)
            assert not late.pending
            again = await hub.subscribe(None)
            seen = await _place(dbx)
            event = await asyncio.wait_for(hub.next(again), 5)
            assert event.order_id == seen, "an event committed before subscribing came live"
            assert not late.pending
        finally:
            await hub.stop()
            dbx.shutdown()

    asyncio.run(main())


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_the_order_rules_reach_the_writer_and_are_applied(db, writer):
    """The handlers read the executor's settings wherever they run (the writer process gets
    them once): a COD limit under the order's total refuses it."""
    async def main() -> None:
        strict = DbExecutor(db, writer=writer,
                            config=HandlerConfig(orders=OrderSettings(cod_limit_minor=100)))
        try:
            with pytest.raises(InvalidArgument, match="cash on delivery"):
                await strict.execute(_cod_order())
        finally:
            await asyncio.to_thread(strict.shutdown)
        lenient = DbExecutor(db, writer=writer)
        try:
            _snap, started = await lenient.execute(_cod_order())
        finally:
            await asyncio.to_thread(lenient.shutdown)
        assert started is not None and started.total.amount_minor > 100

    asyncio.run(main())
