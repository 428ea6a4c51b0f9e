"""`tote serve --nats-url`: every order event published to JetStream (server/relay.py), read
back by a JetStream consumer — each once, in order per order, with the documented subject,
payload and headers — while NATS is stopped and restarted under a stream of orders, through
a URL whose password never reaches the log."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import re
import threading
import time
from pathlib import Path

import grpc
import httpx
import pytest

from tests.harness import Client, ToteServer, cod, unique
from tests.nats_server import NatsServer, stream_count, stream_messages
from tests.outbox_consumer import event_ids, position, unfinished_orders

pytestmark = pytest.mark.slow
PASSWORD = "s3cr3t-Pa55"


def _place_until(client: Client, sku: str, stop: threading.Event) -> None:
    """About 50 orders a second until `stop` (a stream of orders, not a flood of sagas)."""
    while not stop.wait(0.02):
        try:
            client.place([(sku, 1)], cod(), unique("k"))
        except grpc.RpcError:
            return


def _wait(predicate, what: str, timeout_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _relayed_all(url: str, start: int) -> bool:
    """Every saga has ended (no event is still to come) and the relay has published up to
    the newest event."""
    if unfinished_orders(url):
        return False
    ids = event_ids(url, start)
    return bool(ids) and (position(url, "nats") or 0) >= ids[-1]


def test_every_event_reaches_jetstream_once_in_order_per_order_across_a_nats_restart(
        db_url, tmp_path: Path):
    (tmp_path / "nats").mkdir()
    broker = NatsServer(tmp_path / "nats", user="tote", password=PASSWORD).start()
    (tmp_path / "serve").mkdir()
    tote = ToteServer(db_url, tmp_path / "serve",
                      args=["--outbox-interval-s", "0.2", "--metrics-listen", "127.0.0.1:0"],
                      env={"TOTE_NATS_URL": broker.url}).start()
    try:
        start = position(db_url, "nats")
        assert start is not None
        admin = tote.client(tote.token("admin", "ops"))
        admin.fc("FC-BLR")
        sku = unique("NATS")
        admin.product(sku)
        admin.receive("FC-BLR", sku, 10_000)
        stop = threading.Event()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for _ in range(2):
                pool.submit(_place_until, admin, sku, stop)
            _wait(lambda: stream_count(broker.url) >= 30, "the first events in the stream")
            broker.stop()  # under a stream of orders and publishes
            _wait(lambda: "NATS relay must wait" in tote.log_path.read_text(),
                  "the relay to find NATS gone")
            placed_while_down = len(event_ids(db_url, start))
            # Orders keep coming meanwhile: tote does not need NATS.
            _wait(lambda: len(event_ids(db_url, start)) >= placed_while_down + 20,
                  "orders placed while NATS is down")
            broker.start()
            _wait(lambda: stream_count(broker.url) > 30, "publishing again")
            stop.set()
        _wait(lambda: _relayed_all(db_url, start), "the relay to catch up", 90)
        metrics = httpx.get(tote.metrics_url).text
        admin.close()
    finally:
        tote.terminate()
        broker.stop()
        broker.start()
    try:
        messages = stream_messages(broker.url)
    finally:
        broker.stop()
    committed = event_ids(db_url, start)
    got = [int(m.headers["Nats-Msg-Id"]) for m in messages]
    assert sorted(got) == committed  # every event, none twice
    by_order: dict[str, list[int]] = collections.defaultdict(list)
    for m in messages:
        body = json.loads(m.data)
        assert m.subject == f"tote.v1.events.{body['type']}"
        assert m.headers["Tote-Order-Id"] == body["order_id"]
        assert body["event_id"] == m.headers["Nats-Msg-Id"]
        assert body["status"].startswith("ORDER_STATUS_") and "occurred_at" in body
        by_order[body["order_id"]].append(int(body["event_id"]))
    for order_id, ids in by_order.items():
        assert ids == sorted(ids), f"{order_id}'s events out of order in the stream"
    assert PASSWORD not in tote.log_path.read_text()
    published = re.search(r"^tote_relay_published_total (\S+)", metrics, re.M)
    assert published is not None and float(published.group(1)) >= len(committed) - 5
    assert re.search(r'^tote_relay_lag_seconds_count \S+', metrics, re.M)
    assert re.search(r'^tote_outbox_position\{consumer="nats"\} \S+', metrics, re.M)
