"""`tote serve --metrics-listen`: Prometheus metrics at /metrics, scraped from a real server.

Calls are counted by method and status code (auth's refusals too), a stream once for its whole
life, the saga gauges follow the work (a pass held up by the gateway; sagas due in the database
that no replica can claim), and no label value is an order id, a token, a SKU or a customer.
"""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing

import grpc
import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.persistence import migrate
from core.persistence.db import Database, normalize_url
from core.service.catalog import FcData
from core.service.handlers.catalog import UpsertFc
from server.dbexec import DbExecutor
from server.metrics import Metrics
from tests import live_server
from tests.conftest import drop_pg_database, fresh_pg_database
from tests.harness import Client, ToteServer, card, cod, sandbox_card, unique
from tote.v1 import common_pb2, fulfillment_pb2, orders_pb2

PROCESSING = common_pb2.ORDER_STATUS_PROCESSING
RPC = "tote_rpc_duration_seconds"
GET_ORDER = "/tote.v1.OrderService/GetOrder"
WATCH_ORDER = "/tote.v1.OrderService/WatchOrder"
# new_id's shape (core/domain/ids.py): a prefix, "_", 26 Crockford base32 characters.
AN_ID = re.compile(r"[a-z]+_[0-9A-HJKMNP-TV-Z]{26}")


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"),
                        args=["--metrics-listen", "127.0.0.1:0"]).start()
    try:
        yield server
    finally:
        server.terminate()


shop = live_server.role_client("storefront", "shop-metrics")
picker = live_server.role_client("picker", "picker-metrics")


def scrape(server: ToteServer) -> list[Sample]:
    """Every sample /metrics serves now."""
    response = httpx.get(server.metrics_url, timeout=10)
    response.raise_for_status()
    return [s for family in text_string_to_metric_families(response.text)
            for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sample's value; 0 when it is not there (a series not yet observed)."""
    for s in samples:
        if s.name == name and s.labels == labels:
            return s.value
    return 0.0


def calls(samples: list[Sample], method: str, code: str) -> float:
    return value(samples, f"{RPC}_count", method=method, code=code)


def wait_for(server: ToteServer, test: Callable[[list[Sample]], bool], what: str,
             timeout_s: float = 60) -> list[Sample]:
    """Scrape until test(samples) holds; the deadline only catches a hang."""
    deadline = time.monotonic() + timeout_s
    while True:
        samples = scrape(server)
        if test(samples):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout_s} s")
        time.sleep(0.02)


def stocked_sku(admin: Client) -> str:
    sku = unique("SKU-METRICS")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 100)
    return sku


def refused(call: Callable[[], object]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


def test_each_call_is_counted_by_method_and_status_code(tote, admin, shop, picker):
    stranger = tote.client(None)
    before = scrape(tote)
    for _ in range(2):
        admin.fulfillment.ListFulfillmentCenters(
            fulfillment_pb2.ListFulfillmentCentersRequest(), metadata=admin.metadata)
    for _ in range(3):
        assert refused(lambda: admin.get("ord_NOSUCHORDER")) == grpc.StatusCode.NOT_FOUND
    for _ in range(4):  # refused by the auth interceptor, before any servicer
        assert refused(lambda: stranger.get("ord_X")) == grpc.StatusCode.UNAUTHENTICATED
    assert refused(lambda: picker.get("ord_X")) == grpc.StatusCode.PERMISSION_DENIED
    assert refused(lambda: shop.place([], cod())) == grpc.StatusCode.INVALID_ARGUMENT
    after = scrape(tote)
    stranger.close()

    def delta(method: str, code: str) -> float:
        return calls(after, method, code) - calls(before, method, code)

    fcs = "/tote.v1.FulfillmentService/ListFulfillmentCenters"
    assert delta(fcs, "OK") == 2
    assert delta(GET_ORDER, "NOT_FOUND") == 3
    assert delta(GET_ORDER, "UNAUTHENTICATED") == 4
    assert delta(GET_ORDER, "PERMISSION_DENIED") == 1
    assert delta("/tote.v1.OrderService/PlaceOrder", "INVALID_ARGUMENT") == 1
    assert delta(GET_ORDER, "OK") == 0
    # A histogram: every call is in the +Inf bucket and took some time.
    labels = {"method": GET_ORDER, "code": "NOT_FOUND"}
    assert value(after, f"{RPC}_bucket", **labels, le="+Inf") == calls(after, GET_ORDER,
                                                                        "NOT_FOUND")
    assert value(after, f"{RPC}_sum", **labels) > 0
    # The database was used, and its transactions timed.
    assert value(after, "tote_db_transaction_seconds_count", kind="read") > 0
    assert value(after, "tote_db_transaction_seconds_count", kind="write") > 0
    # The single writer's queue is SQLite's alone.
    sqlite = normalize_url(tote.db_url).startswith("sqlite")
    assert any(s.name == "tote_sqlite_writer_queue_depth" for s in after) == sqlite
    # prometheus-client's process collector, in this server's own registry.
    assert value(after, "process_cpu_seconds_total") > 0


def test_a_watch_stream_is_one_call_for_its_whole_life(tote, admin, shop):
    order = shop.place([(stocked_sku(admin), 1)], cod())
    before = scrape(tote)
    stream = shop.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order.order_id),
                                    metadata=shop.metadata)
    next(stream)  # the stream is open and serving
    wait_for(tote, lambda s: value(s, "tote_rpc_streams_open", method=WATCH_ORDER) == 1,
             "the open WatchOrder in progress")
    assert calls(scrape(tote), WATCH_ORDER, "CANCELLED") == calls(before, WATCH_ORDER,
                                                                   "CANCELLED")
    stream.cancel()
    after = wait_for(tote, lambda s: calls(s, WATCH_ORDER, "CANCELLED")
                     == calls(before, WATCH_ORDER, "CANCELLED") + 1,
                     "the cancelled WatchOrder counted")
    assert value(after, "tote_rpc_streams_open", method=WATCH_ORDER) == 0


def test_no_label_value_is_an_order_id_token_sku_or_customer(tote, admin, shop):
    sku = stocked_sku(admin)
    customer = unique("cust-metrics")
    order = shop.place([(sku, 1)], cod(), customer_id=customer)
    shop.wait_status(order.order_id, {PROCESSING})
    assert shop.get(order.order_id).order_id == order.order_id
    token = tote.token("supervisor", "ops-label-check")
    with closing(tote.client(token)) as client:
        client.get(order.order_id)
    bogus = "ord_" + "Z" * 26
    assert refused(lambda: admin.get(bogus)) == grpc.StatusCode.NOT_FOUND
    with closing(tote.client("not-a-token-" + sku)) as client:
        assert refused(lambda: client.get(order.order_id)) == grpc.StatusCode.UNAUTHENTICATED
    # A method that does not exist: its name is the caller's, never a label value.
    made_up = f"/tote.v1.OrderService/{sku}"
    with grpc.insecure_channel(tote.grpc_address) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            channel.unary_unary(made_up)(b"", timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED

    samples = scrape(tote)
    label_values = {v for s in samples for v in s.labels.values()}
    secret_ish = {order.order_id, bogus, sku, customer, token, made_up}
    assert not label_values & secret_ish
    assert not [v for v in label_values if AN_ID.search(v) or sku in v or token in v]
    # The methods are the server's own (or "unknown"), the codes grpc's names.
    methods = {s.labels["method"] for s in samples if "method" in s.labels}
    assert methods <= {m for m in methods if m.startswith(("/tote.v1.", "/grpc."))} | {
        "unknown"}
    codes = {s.labels["code"] for s in samples if "code" in s.labels}
    assert codes <= {c.name for c in grpc.StatusCode}
    assert calls(samples, "unknown", "UNIMPLEMENTED") >= 1


# PostgreSQL only (SQLite has no row locks to hold a due saga back from the one writer).
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_sagas_due_that_no_replica_can_claim_show_as_waiting(tote, admin, shop, db_url):
    """PostgreSQL: rows locked FOR KEY SHARE are skipped by every replica's claim (FOR UPDATE
    SKIP LOCKED), yet their saga_due_at may be set — work due and stuck, as an operator sees
    when the replicas cannot keep up."""
    sku = stocked_sku(admin)
    orders = [shop.place([(sku, 1)], cod()).order_id for _ in range(3)]
    for order_id in orders:
        assert shop.wait_status(order_id, {PROCESSING}).status == PROCESSING
    wait_for(tote, lambda s: value(s, "tote_saga_waiting") == 0, "no saga waiting")
    url = normalize_url(db_url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as writer:
        holder.execute("SELECT 1 FROM orders WHERE order_id = ANY(%s) FOR KEY SHARE",
                       (orders,))
        writer.execute("UPDATE orders SET saga_due_at = now() - interval '1 minute' "
                       "WHERE order_id = ANY(%s)", (orders,))
        samples = scrape(tote)
        assert value(samples, "tote_saga_waiting") == 3
        assert value(samples, "tote_saga_scheduled") >= 3
        holder.rollback()  # the replica may claim them now
        wait_for(tote, lambda s: value(s, "tote_saga_waiting") == 0,
                 "the released sagas claimed")
    for order_id in orders:
        assert shop.get(order_id).status == PROCESSING


@pytest.mark.slow
def test_a_saga_pass_held_up_by_the_gateway_is_in_flight(db_url, tmp_path):
    # A gateway that takes connections and never answers: the order's authorization waits.
    gateway = socket.socket()
    gateway.bind(("127.0.0.1", 0))
    gateway.listen(16)
    port = gateway.getsockname()[1]
    server = ToteServer(db_url, tmp_path, args=[
        "--metrics-listen", "127.0.0.1:0", "--gateway-url", f"http://127.0.0.1:{port}"]).start()
    try:
        with closing(server.client(server.token("admin", "ops"))) as admin:
            admin.fc("FC-BLR")
            sku = stocked_sku(admin)
            order = admin.place([(sku, 1)], card(sandbox_card(server.sandbox_url)))
            samples = wait_for(server, lambda s: value(s, "tote_saga_in_flight") == 1,
                               "the saga pass in flight")
            assert value(samples, "tote_saga_scheduled") >= 1  # its lease
            assert admin.get(order.order_id).status == common_pb2.ORDER_STATUS_PENDING
            gateway.close()  # the gateway goes away: the pass fails and is retried later
            wait_for(server, lambda s: value(s, "tote_saga_in_flight") == 0,
                     "the failed pass ended")
    finally:
        gateway.close()
        server.terminate()


@pytest.mark.slow
@pytest.mark.parametrize("listen, says", [
    ("nonsense", "is not HOST:PORT"),
    ("127.0.0.1:99999", "a port is 0 to 65535"),
    ("taken", "--metrics-listen 127.0.0.1:"),
])
def test_a_bad_metrics_address_is_a_clear_error(tmp_path, listen, says):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        if listen == "taken":
            listen = f"127.0.0.1:{taken.getsockname()[1]}"
        run = subprocess.run(
            [sys.executable, "-m", "server", "serve", "--db", str(tmp_path / "t.db"),
             "--listen", "127.0.0.1:0", "--webhook-listen", "127.0.0.1:0", "--sandbox",
             "--sandbox-listen", "127.0.0.1:0", "--webhook-secret", "s",
             "--metrics-listen", listen],
            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert run.returncode != 0
    assert says in run.stderr
    assert "Traceback" not in run.stderr


# -- in one process: the registry and the database hooks ----------------------------------------

def test_two_servers_in_one_process_keep_their_own_counts():
    """A registry per server: a second one neither fails to register nor sees the first's."""
    first, second = Metrics(), Metrics()
    first.rpc_done(GET_ORDER, "OK", 0.002)
    first.lease_taken_over("saga", 2)
    assert first.registry.get_sample_value(f"{RPC}_count",
                                           {"method": GET_ORDER, "code": "OK"}) == 1
    assert second.registry.get_sample_value(f"{RPC}_count",
                                            {"method": GET_ORDER, "code": "OK"}) is None
    assert first.registry.get_sample_value("tote_lease_takeovers_total", {"worker": "saga"}) == 2
    assert second.registry.get_sample_value("tote_lease_takeovers_total",
                                            {"worker": "saga"}) == 0


@pytest.mark.parametrize("writer", ["thread", "process"])
async def test_sqlite_writes_are_timed_and_the_writer_queue_drains(tmp_path, writer):
    db = Database(str(tmp_path / "tote.db"))
    migrate.upgrade(db.url)
    metrics = Metrics()
    dbx = DbExecutor(db, writer=writer, metrics=metrics)
    try:
        depth = dbx.writer_queue_depth
        assert depth is not None and depth() == 0
        writes = [asyncio.ensure_future(dbx.execute(UpsertFc(FcData(
            f"FC-{i}", "FC", 1.0, 1.0, 16, 10, {})))) for i in range(20)]
        await asyncio.sleep(0)  # each caller has submitted its command
        if writer == "process":  # answers are read on this loop: none yet
            assert depth() == 20
        await asyncio.gather(*writes)
        assert depth() == 0

        def groups() -> float | None:
            return metrics.registry.get_sample_value("tote_db_transaction_seconds_count",
                                                     {"kind": "write"})
        # One observation per group commit: at least one, at most one per command. (The
        # process reports a group's time with its answers.)
        assert 1 <= (groups() or 0) <= 20
    finally:
        await asyncio.to_thread(dbx.shutdown)  # the process writer stops through this loop
        db.dispose()


@pytest.mark.postgres
async def test_a_transaction_retried_after_a_lock_timeout_is_counted(pg_server):
    url, name = fresh_pg_database(pg_server)
    plain = pg_server.rsplit("/", 1)[0].replace("+psycopg", "") + f"/{name}"
    with psycopg.connect(plain, autocommit=True) as other:
        other.execute("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)")
        other.execute("INSERT INTO counter VALUES (1, 0)")
    db = Database(url)
    holder = psycopg.connect(plain)  # another writer holds the row: the first attempt waits
    holder.execute("SELECT n FROM counter WHERE id = 1 FOR UPDATE")
    try:
        metrics = Metrics()
        dbx = DbExecutor(db, metrics=metrics)
        attempts = []

        def add_ten(session: Session) -> int:
            attempts.append(1)
            if len(attempts) == 2:  # the other writer is done by the retry
                holder.rollback()
            session.execute(text("SET LOCAL lock_timeout = '100ms'"))
            return int(session.execute(text(
                "UPDATE counter SET n = n + 10 WHERE id = 1 RETURNING n")).scalar_one())

        # Database.run_write retries the transaction whose lock wait timed out (55P03).
        assert await asyncio.to_thread(db.run_write, add_ten) == 10
        assert len(attempts) == 2
        assert metrics.registry.get_sample_value("tote_db_retries_total") == 1
        dbx.shutdown()
    finally:
        holder.close()
        db.dispose()
        drop_pg_database(name)
