"""Orders first, the saga queue's admission policy: while PlaceOrder calls are arriving, new
saga passes give way to them. The queue (server/saga.py) owns it: PlaceOrder tells the queue
(`SagaRunner.placing()`), and the queue asks it before each pass it starts from its backlog.

A storefront's checkout waits on PlaceOrder; nobody waits on a saga pass by the millisecond —
the order is durable and PENDING, and its saga resumes from the database whenever it runs.
Both share one event loop and SQLite's one writer, and a saga pass costs several times what
placing the order does (a gateway call, routing, soft locks, three transactions), so under a
burst of orders the saga would take most of the CPU and checkouts would queue behind it.

While a PlaceOrder call is in flight, or one ended less than `quiet_s` ago — a storefront
placing orders back to back, waiting on each answer — a saga pass starts only with a token,
`min_rate` of them a second, so the saga never stops; the rest start in the first quiet moment.
A storefront whose orders arrive with gaps between them (most of the day) leaves those moments,
and its sagas keep pace. Passes already under way run on. Once the oldest waiting saga has
waited `max_wait_s`, passes stop giving way until it has started: a rush is absorbed for that
long, then orders are taken only as fast as they are worked. Cancellations and payment answers
never wait here (the queue's urgent kicks).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from types import TracebackType


class OrdersFirst:
    """When the next queued saga pass may start; `with policy.placing():` around a PlaceOrder."""

    def __init__(self, min_rate: float = 20.0, quiet_s: float = 0.005,
                 max_wait_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if min_rate <= 0:
            raise ValueError("min_rate must be above 0: the saga must keep moving")
        self.min_rate = min_rate
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._inflight = 0
        self._quiet_at = 0.0
        self._tokens = 1.0
        self._refilled = clock()
        self._calm: asyncio.Event | None = None  # set when the last call in flight ends
        self._turn: asyncio.Lock | None = None  # one pass at the gate at a time, in order
        self.gave_way = 0  # passes that waited for a token or a quiet moment

    def placing(self) -> OrdersFirst:
        """Around one PlaceOrder call (`with policy.placing(): ...`)."""
        return self

    # A context manager of its own rather than a generator's: PlaceOrder is the hot path.
    def __enter__(self) -> None:
        self._inflight += 1

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._inflight -= 1
        self._quiet_at = self._clock() + self.quiet_s
        if self._inflight == 0 and self._calm is not None:
            self._calm.set()

    @property
    def busy(self) -> bool:
        return self._inflight > 0 or self._clock() < self._quiet_at

    async def admit(self, waited: Callable[[], float] = lambda: 0.0) -> None:
        """Return when a saga pass may start; `waited()`: seconds the oldest saga waiting for
        a pass has waited so far."""
        if self._turn is None:
            self._turn = asyncio.Lock()
            self._calm = asyncio.Event()
        assert self._calm is not None
        async with self._turn:
            held = False
            while True:
                now = self._clock()
                overdue_in = self.max_wait_s - waited()
                if overdue_in <= 0 or not self.busy:
                    break
                self._tokens = min(1.0, self._tokens + (now - self._refilled) * self.min_rate)
                self._refilled = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    break
                held = True
                # Until a token is due, orders stop arriving, or the oldest saga has waited
                # too long, whichever is first.
                wait = min((1.0 - self._tokens) / self.min_rate, overdue_in)
                if self._inflight == 0:
                    wait = min(wait, max(self._quiet_at - now, 0.0))
                self._calm.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._calm.wait()
            if held:
                self.gave_way += 1
