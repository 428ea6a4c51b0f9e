"""WatchOrder and WatchOrders across two `tote serve` replicas on one PostgreSQL database: a
stream on either replica shows the events committed through both, each once, in the order of
their ids, and a stream cut on one replica resumes on the other with after_event_id where it
stopped — also when an event id was taken by a transaction still open at the cut (PostgreSQL
hands ids out at insert, not at commit: replica A's event 9 may commit after B's event 10)."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import psycopg
import pytest

from tests.conftest import migrated_pg_database
from tests.harness import Client, ToteServer, cod, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
DEADLINE_S = 60  # only catches a hang


@pytest.fixture(scope="module")
def pg_url(pg_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with migrated_pg_database(pg_server) as url:
        yield url


@pytest.fixture(scope="module")
def replicas(pg_url, tmp_path_factory) -> Iterator[tuple[ToteServer, ToteServer]]:  # type: ignore[no-untyped-def]
    a = ToteServer(pg_url, tmp_path_factory.mktemp("a")).start()
    # Each with a sandbox of its own: these orders are cash on delivery, no gateway call.
    b = ToteServer(pg_url, tmp_path_factory.mktemp("b")).start()
    try:
        yield a, b
    finally:
        a.terminate()
        b.terminate()


@pytest.fixture(scope="module")
def clients(replicas) -> Iterator[tuple[Client, Client]]:  # type: ignore[no-untyped-def]
    a, b = replicas
    token = a.token("admin", "ops")  # one database: a token works on every replica
    on_a, on_b = Client(a.grpc_address, token), Client(b.grpc_address, token)
    on_a.fc("FC-BLR")
    yield on_a, on_b
    on_a.close()
    on_b.close()


class Reader:
    """A WatchOrders stream read on a thread, every event kept in arrival order."""

    def __init__(self, client: Client, after: int) -> None:
        self.events: list[pb.OrderEvent] = []
        self.error: grpc.RpcError | None = None
        self.call = client.orders.WatchOrders(
            orders_pb2.WatchOrdersRequest(after_event_id=str(after)), metadata=client.metadata)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for event in self.call:
                self.events.append(event)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc

    def ids(self) -> list[int]:
        return [int(e.event_id) for e in self.events]

    def wait_for(self, done, what: str) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + DEADLINE_S
        while not done():
            assert self.error is None, f"the stream failed: {self.error}"
            assert time.monotonic() < deadline, f"{what}: the stream has {self.ids()}"
            time.sleep(0.02)

    def stop(self) -> None:
        self.call.cancel()
        self.thread.join(10)


def _sql(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def db_events(url: str) -> list[tuple[int, str, str]]:
    """(event_id, order_id, type) of every committed event, by id."""
    with _sql(url) as conn:
        return [(int(r[0]), r[1], r[2]) for r in conn.execute(
            "SELECT event_id, order_id, type FROM order_events ORDER BY event_id")]


def newest_id(url: str) -> int:
    return max((e[0] for e in db_events(url)), default=0)


def place_through_both(clients: tuple[Client, Client], sku: str, n: int) -> list[str]:
    """n orders placed at once, every other one through each replica, each to PROCESSING."""
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        placed = list(pool.map(lambda i: clients[i % 2].place([(sku, 1)], cod()).order_id,
                               range(n)))
    for i, order_id in enumerate(placed):
        order = clients[(i + 1) % 2].wait_status(order_id, {pb.ORDER_STATUS_PROCESSING},
                                                 DEADLINE_S)
        assert order.status == pb.ORDER_STATUS_PROCESSING
    return placed


def assert_matches_database(ids: list[int], events: list[tuple[int, str, str]]) -> None:
    """Each event once, and each order's events in the order of their ids."""
    assert len(ids) == len(set(ids)), f"duplicates: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert sorted(ids) == [e[0] for e in events], "events missing from the stream"
    of_order: dict[str, list[int]] = {}
    for event_id, order_id, _ in events:
        of_order.setdefault(order_id, []).append(event_id)
    position = {event_id: n for n, event_id in enumerate(ids)}
    for order_id, expected in of_order.items():
        assert sorted(expected, key=position.__getitem__) == expected, order_id


def test_a_stream_on_each_replica_sees_every_event_of_orders_placed_through_both(
        pg_url, clients):
    on_a, on_b = clients
    sku = unique("BOTH")
    on_a.product(sku)
    on_b.receive("FC-BLR", sku, 100)
    start = newest_id(pg_url)
    readers = [Reader(on_a, start), Reader(on_b, start)]
    try:
        placed = place_through_both(clients, sku, 24)
        events = [e for e in db_events(pg_url) if e[0] > start]
        assert {e[1] for e in events} == set(placed)
        for reader in readers:
            reader.wait_for(lambda r=reader: len(r.events) >= len(events), "events missing")
        for reader in readers:
            assert_matches_database(reader.ids(), events)
    finally:
        for reader in readers:
            reader.stop()


def test_watch_order_on_one_replica_shows_an_order_placed_on_the_other(pg_url, clients):
    on_a, on_b = clients
    sku = unique("ONE")
    on_a.product(sku)
    on_a.receive("FC-BLR", sku, 5)
    order_id = on_a.place([(sku, 1)], cod()).order_id
    seen: list[pb.OrderEvent] = []
    stream = on_b.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order_id),
                                    metadata=on_b.metadata, timeout=DEADLINE_S)
    for event in stream:
        seen.append(event)
        if event.type == "Order_Assigned":
            stream.cancel()
            break
    expected = [e for e in db_events(pg_url) if e[1] == order_id]
    assert [(int(e.event_id), e.type) for e in seen] == [(e[0], e[2]) for e in expected]


def test_a_stream_cut_on_one_replica_resumes_on_the_other_with_no_gap_and_no_duplicate(
        pg_url, clients):
    on_a, on_b = clients
    sku = unique("CUT")
    on_a.product(sku)
    on_a.receive("FC-BLR", sku, 100)
    start = newest_id(pg_url)
    before = place_through_both(clients, sku, 3)
    # A replica's transaction that has taken its event id and not yet committed: every event
    # committed meanwhile has a higher id.
    held = _sql(pg_url)
    late_id = int(held.execute(
        "INSERT INTO order_events (order_id, type, status, detail, fc_id, storefront, "
        "occurred_at) VALUES (%s, 'Order_Created', 'PENDING', '', NULL, 'shop-a', %s) "
        "RETURNING event_id", (unique("ord_late"), datetime.now(UTC))).fetchone()[0])  # type: ignore[index]
    place_through_both(clients, sku, 6)
    # The stream on A is cut as soon as it has shown the first orders' events.
    shown = len([e for e in db_events(pg_url) if e[1] in before])
    first = Reader(on_a, start)
    try:
        first.wait_for(lambda: len(first.events) >= shown, "the first orders' events")
    finally:
        first.stop()
    cut = list(first.events)
    held.commit()  # the open transaction commits after the cut
    held.close()
    last_seen = int(cut[-1].event_id)
    resumed = Reader(on_b, last_seen)
    try:
        place_through_both(clients, sku, 4)  # and more while resumed
        events = [e for e in db_events(pg_url) if e[0] > start]
        assert late_id in [e[0] for e in events]
        resumed.wait_for(lambda: len(cut) + len(resumed.events) >= len(events),
                         f"event {late_id}, committed after the cut, never came")
        assert_matches_database([int(e.event_id) for e in cut] + resumed.ids(), events)
    finally:
        resumed.stop()
