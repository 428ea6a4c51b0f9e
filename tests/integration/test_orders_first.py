"""Orders first: while a storefront keeps placing orders, their sagas give way (never stop), a
cancellation does not queue behind them, and every saga finishes once the orders stop."""

from __future__ import annotations

import collections
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest

from tests.harness import Client, ToteServer, card, cod, sandbox_card, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED
# Saga passes a second while orders arrive (tote serve --saga-min-rate): the least tote takes,
# one in ten seconds, so that the rate lets in a handful of passes at most within a test's
# deadline, and what is asserted is order, not speed. bench/orders_first.py measures the pace.
MIN_RATE = 0.1
RUSH_DEADLINE_S = 60
MAX_WAIT_S = 600  # no saga stops giving way during a test (--saga-max-wait-s)


@pytest.fixture(scope="module")
def tote(tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("orders-first")
    server = ToteServer(str(work / "tote.db"), work,
                        args=["--saga-min-rate", str(MIN_RATE),
                              "--saga-max-wait-s", str(MAX_WAIT_S)]).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def shop(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    admin = tote.client(tote.token("admin", "ops"))
    admin.fc("FC-BLR")
    admin.close()
    client = tote.client(tote.token("storefront", "shop-a"))
    yield client
    client.close()


class Storefront:
    """Four checkouts placing COD orders back to back (each waits on its answer, then places
    the next), until stopped: PlaceOrder calls are always in flight."""

    def __init__(self, shop: Client, sku: str) -> None:
        self.shop, self.sku = shop, sku
        self._stop = threading.Event()
        self.placed: list[str] = []
        self.failures: collections.Counter[str] = collections.Counter()
        self._threads = [threading.Thread(target=self._checkout, daemon=True) for _ in range(4)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _checkout(self) -> None:
        while not self._stop.is_set():
            try:
                self.placed.append(self.shop.place([(self.sku, 1)], cod()).order_id)
            except Exception as exc:  # noqa: BLE001 - counted, asserted empty
                self.failures[type(exc).__name__] += 1


def _worked(db_path: str, order_ids: list[str]) -> int:
    """How many of these orders their saga has moved out of PENDING."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(order_ids))
        return conn.execute(f"SELECT count(*) FROM orders WHERE order_id IN ({marks}) "
                            "AND status != 'PENDING'", order_ids).fetchone()[0]
    finally:
        conn.close()


def test_sagas_give_way_while_orders_arrive_and_all_finish_when_they_stop(tote, shop):
    sku = unique("RUSH")
    admin = tote.client(tote.token("admin", "stock"))
    admin.product(sku)
    admin.receive("FC-BLR", sku, 10_000)
    admin.close()
    storefront = Storefront(shop, sku)
    storefront.start()
    try:
        deadline = time.monotonic() + RUSH_DEADLINE_S
        while len(storefront.placed) < 80:
            assert time.monotonic() < deadline, "the storefront could not place 80 orders"
            time.sleep(0.05)
        placed = list(storefront.placed)
        worked = _worked(tote.db_url, placed)
    finally:
        storefront.stop()
    assert not storefront.failures and len(placed) >= 80
    # Passes started only with a token (the one in hand, and at most one in ten seconds until
    # the deadline), not one per order placed; a tenth more for quiet moments a busy test
    # machine may leave between the checkouts.
    assert worked <= 2 + MIN_RATE * RUSH_DEADLINE_S + len(placed) / 10, (worked, len(placed))
    finals = [shop.wait_status(i, {PROCESSING, CANCELLED}, timeout_s=60)
              for i in storefront.placed]
    assert collections.Counter(o.status for o in finals) == {PROCESSING: len(finals)}


def test_a_cancellation_does_not_wait_behind_the_sagas_that_gave_way(tote, shop):
    sku = unique("HOLD")
    admin = tote.client(tote.token("admin", "stock2"))
    admin.product(sku)
    admin.receive("FC-BLR", sku, 10_000)
    admin.close()
    target = shop.place([(sku, 1)], card(sandbox_card(tote.sandbox_url)))
    storefront = Storefront(shop, sku)
    storefront.start()
    try:
        deadline = time.monotonic() + 60
        while len(storefront.placed) < 40:
            assert time.monotonic() < deadline, "the storefront could not place 40 orders"
            time.sleep(0.05)
        # Orders keep arriving; the target's saga is queued behind them (or just started).
        # At the minimum rate the backlog cannot drain while the storefront runs, so a
        # cancellation queued behind it would not be answered (20 s deadline) until stopped.
        cancelled = shop.orders.CancelOrder(
            orders_pb2.CancelOrderRequest(order_id=target.order_id, reason="changed my mind"),
            metadata=shop.metadata, timeout=20)
        # Answered with the storefront's sagas still held back.
        backlog = len(storefront.placed) - _worked(tote.db_url, list(storefront.placed))
    finally:
        storefront.stop()
    assert cancelled.status == CANCELLED, cancelled.cancel_reason
    assert cancelled.payment.state == "voided", cancelled.payment.state
    assert backlog > 10, "the storefront's sagas were not held back: nothing was tested"


def test_a_saga_starts_as_soon_as_the_storefront_pauses(tote, shop):
    """Most of the day orders arrive with time between them: the sagas run in those gaps
    and none waits for a token (one in ten seconds here). The pace at 40 ms gaps is
    measured by bench/orders_first.py; tests/unit/test_intake_first.py states it exactly."""
    sku = unique("STEADY")
    admin = tote.client(tote.token("admin", "stock3"))
    admin.product(sku)
    admin.receive("FC-BLR", sku, 1_000)
    admin.close()
    for _ in range(10):
        order_id = shop.place([(sku, 1)], cod()).order_id
        # The storefront waits until this order's saga has worked it before placing the next.
        # (8 s: plenty for a saga that starts at once, too short for one held for a token.)
        order = shop.wait_status(order_id, {PROCESSING, CANCELLED}, timeout_s=8)
        assert order.status == PROCESSING, "the saga waited for a token, not for the pause"
