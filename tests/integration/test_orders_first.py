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
MIN_RATE = 2.0  # saga passes a second while orders arrive (tote serve --saga-min-rate)


@pytest.fixture(scope="module")
def tote(tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    work = tmp_path_factory.mktemp("orders-first")
    server = ToteServer(str(work / "tote.db"), work,
                        args=["--saga-min-rate", str(MIN_RATE)]).start()
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
    started = time.monotonic()
    storefront.start()
    try:
        while len(storefront.placed) < 80 and time.monotonic() - started < 60:
            time.sleep(0.05)
        placed = list(storefront.placed)
        elapsed = time.monotonic() - started
        worked = _worked(tote.db_url, placed)
    finally:
        storefront.stop()
    assert not storefront.failures and len(placed) >= 80
    # Passes started at the minimum rate (plus the token in hand), not one per order placed;
    # a tenth more for quiet moments a busy test machine may leave between the checkouts.
    assert worked <= 2 + MIN_RATE * elapsed + len(placed) / 10, (worked, len(placed), elapsed)
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
        while len(storefront.placed) < 40:
            time.sleep(0.05)
        # Orders keep arriving; the target's saga is queued behind them (or just started).
        before = time.monotonic()
        cancelled = shop.orders.CancelOrder(
            orders_pb2.CancelOrderRequest(order_id=target.order_id, reason="changed my mind"),
            metadata=shop.metadata, timeout=20)
        took = time.monotonic() - before
        backlog = len(storefront.placed) - _worked(tote.db_url, list(storefront.placed))
    finally:
        storefront.stop()
    assert cancelled.status == CANCELLED, cancelled.cancel_reason
    assert cancelled.payment.state == "voided", cancelled.payment.state
    assert backlog > 10, "the storefront's sagas were not held back: nothing was tested"
    assert took < 10


def test_a_storefront_placing_orders_with_gaps_between_them_has_its_sagas_keep_pace(tote, shop):
    """Most of the day orders arrive with time between them: the sagas run in those gaps,
    far above the minimum rate, and none waits for a pause in the orders."""
    sku = unique("STEADY")
    admin = tote.client(tote.token("admin", "stock3"))
    admin.product(sku)
    admin.receive("FC-BLR", sku, 1_000)
    admin.close()
    placed = []
    started = time.monotonic()
    for _ in range(40):
        placed.append(shop.place([(sku, 1)], cod()).order_id)
        time.sleep(0.04)  # the next customer's checkout, 40 ms later
    elapsed = time.monotonic() - started
    worked = _worked(tote.db_url, placed)
    assert worked >= 30 > 2 + MIN_RATE * elapsed, (worked, elapsed)
