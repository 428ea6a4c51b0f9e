"""Orders first: while a storefront keeps placing orders, their sagas give way (never stop), a
cancellation does not queue behind them, and every saga finishes once the orders stop."""

from __future__ import annotations

import collections
import concurrent.futures
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


class Storefront(threading.Thread):
    """Places COD orders back to back, from a few threads' worth of checkouts, until stopped."""

    def __init__(self, shop: Client, sku: str) -> None:
        super().__init__(daemon=True)
        self.shop, self.sku = shop, sku
        self.stop = threading.Event()
        self.placed: list[str] = []
        self.failures: collections.Counter[str] = collections.Counter()

    def run(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            while not self.stop.is_set():
                for fut in [pool.submit(self.shop.place, [(self.sku, 1)], cod())
                            for _ in range(4)]:
                    try:
                        self.placed.append(fut.result().order_id)
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
        storefront.stop.set()
        storefront.join(30)
    assert not storefront.failures and len(placed) >= 80
    # Passes started at the minimum rate (plus the token in hand), not one per order placed.
    assert worked <= 2 + MIN_RATE * elapsed, (worked, len(placed), elapsed)
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
        storefront.stop.set()
        storefront.join(30)
    assert cancelled.status == CANCELLED, cancelled.cancel_reason
    assert cancelled.payment.state == "voided", cancelled.payment.state
    assert backlog > 10, "the storefront's sagas were not held back: nothing was tested"
    assert took < 10
