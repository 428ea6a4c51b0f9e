"""Two `tote serve` replicas on one PostgreSQL database are one service: no oversell across
them, one order per idempotency key, every background worker's work done once, and a replica
killed (SIGKILL) leaves its sagas and packings to the other within the lease.

PostgreSQL only: SQLite is one process's file, so there is nothing to share.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from sqlalchemy import func, select

from core.persistence.db import Database
from core.persistence.fulfillment_models import Shipment
from core.persistence.lease_models import WorkerLease
from core.persistence.models import Order, SoftLock, StockLevel
from tests.conftest import migrated_pg_database
from tests.harness import (
    Client,
    SandboxProcess,
    ToteServer,
    card,
    cod,
    free_port,
    ledger,
    place_request,
    sandbox_card,
    unique,
)
from tests.integration.test_metrics import scrape, value
from tests.integration.test_packing import pick
from tests.integration.test_shipping import hand_off, pick_and_pack
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED
PACKED, SHIPPED, DELIVERED = (pb.ORDER_STATUS_PACKED, pb.ORDER_STATUS_SHIPPED,
                              pb.ORDER_STATUS_DELIVERED)
FINAL = {PROCESSING, CANCELLED}
LEASE_S = 2  # --saga-lease-s: a killed replica's work is the other's after this
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _fresh_database(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with migrated_pg_database(request.getfixturevalue("pg_server")) as url:
        yield url


@pytest.fixture(scope="module")
def module_pg_url(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, migrated PostgreSQL database for the module's pair of replicas (a skip where
    none answers, a failure under CI=true: the pg_server fixture)."""
    yield from _fresh_database(request)


@pytest.fixture
def pg_url(request) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database of the test's own: replicas it starts must not share their database with
    the module's pair, whose workers would take their sagas to another sandbox."""
    yield from _fresh_database(request)


class Replicas:
    """Two `tote serve` on one database sharing one sandbox gateway and carrier (its webhooks
    go to the first; polling is how the second learns of them)."""

    def __init__(self, db_url: str, workdir: Path, latency_ms: int = 0,
                 args: tuple[str, ...] = ()) -> None:
        webhook_port = free_port()
        self.sandbox = SandboxProcess(
            workdir, f"http://127.0.0.1:{webhook_port}/webhooks/gateway").start()
        self.latency(latency_ms)  # (after its start: the harness's health check has 1 s)
        flags = ["--gateway-url", self.sandbox.url, "--carrier-url", self.sandbox.url,
                 "--saga-lease-s", str(LEASE_S), "--metrics-listen", "127.0.0.1:0", *args]
        self.servers: list[ToteServer] = []
        for name, port in (("a", webhook_port), ("b", 0)):
            (workdir / name).mkdir(exist_ok=True)
            self.servers.append(ToteServer(db_url, workdir / name, sandbox=False,
                                           webhook_port=port, args=flags).start())
        self.a, self.b = self.servers
        self.clients: list[Client] = []

    def client(self, server: ToteServer, role: str, name: str = "", fc_id: str = "") -> Client:
        made = server.client(server.token(role, name, fc_id))
        self.clients.append(made)
        return made

    def both(self, role: str, name: str = "", fc_id: str = "") -> list[Client]:
        """One client per replica, with one token (tokens live in the shared database)."""
        token = self.a.token(role, name, fc_id)
        made = [s.client(token) for s in self.servers]
        self.clients += made
        return made

    def requests(self) -> dict[str, dict[str, int]]:
        reply = httpx.get(f"{self.sandbox.url}/v1/sandbox/requests")
        reply.raise_for_status()
        return reply.json()  # type: ignore[no-any-return]

    def latency(self, ms: int) -> None:
        """How long the sandbox takes to answer each gateway and carrier call from now on."""
        httpx.post(f"{self.sandbox.url}/v1/sandbox/latency", json={"ms": ms}).raise_for_status()

    def close(self) -> None:
        for c in self.clients:
            c.close()
        for s in self.servers:
            if s.proc is not None and s.proc.poll() is None:
                s.terminate()
        self.sandbox.stop()


@contextlib.contextmanager
def replicas(db_url: str, workdir: Path, latency_ms: int = 0,
             args: tuple[str, ...] = ()) -> Iterator[Replicas]:
    pair = Replicas(db_url, workdir, latency_ms, args)
    try:
        yield pair
    finally:
        pair.close()


@pytest.fixture(scope="module")
def pair(module_pg_url, tmp_path_factory) -> Iterator[Replicas]:  # type: ignore[no-untyped-def]
    with replicas(module_pg_url, tmp_path_factory.mktemp("pair"),
                  args=("--cod-limit-minor", "2000000")) as made:
        admin = made.client(made.a, "admin", "ops")
        admin.fc("FC-BLR")
        yield made


def _wait(predicate: Callable[[], object], what: str, timeout_s: float = 60) -> None:
    """Until predicate() is true; the deadline only catches a hang."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.05)


def _query(db_url: str, fn: Callable[..., object]) -> object:
    db = Database(db_url)
    try:
        return db.run_read(fn)
    finally:
        db.dispose()


def _no_orphan_locks(db_url: str) -> None:
    def counts(s):  # type: ignore[no-untyped-def]
        dead = s.scalar(select(func.count()).select_from(SoftLock).join(
            Order, Order.order_id == SoftLock.order_id).where(Order.status == "CANCELLED"))
        held = s.scalar(select(func.coalesce(func.sum(SoftLock.quantity), 0)))
        counted = s.scalar(select(func.coalesce(func.sum(StockLevel.soft_locked), 0)))
        return dead, held, counted
    dead, held, counted = _query(db_url, counts)  # type: ignore[misc]
    assert dead == 0, "soft locks left behind by cancelled orders"
    assert held == counted, "stock levels disagree with the soft locks held"


def _log(server: ToteServer) -> str:
    return "".join(server._pump.lines)


# -- the invariants, over both replicas ---------------------------------------------------------

def test_200_concurrent_orders_on_stock_50_over_two_replicas_make_exactly_50_processing(pair):
    admin = pair.clients[0]
    sku = unique("HOT2")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 50)
    token = sandbox_card(pair.sandbox.url)
    shops = pair.both("storefront", "shop-a")
    codes: collections.Counter[str] = collections.Counter()
    per_replica: collections.Counter[int] = collections.Counter()

    def place(i: int) -> str | None:
        try:
            placed = shops[i % 2].place([(sku, 1)], card(token) if (i // 2) % 2 else cod())
            per_replica[i % 2] += 1
            return placed.order_id
        except grpc.RpcError as exc:
            codes[f"{exc.code().name}: {exc.details()}"] += 1
            return None

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        ids = [i for i in pool.map(place, range(200)) if i]
    assert codes == {} and len(ids) == 200
    assert per_replica == {0: 100, 1: 100}
    finals = [shops[n % 2].wait_status(i, FINAL, timeout_s=60) for n, i in enumerate(ids)]
    statuses = collections.Counter(o.status for o in finals)
    assert statuses == {PROCESSING: 50, CANCELLED: 150}
    assert all("out of stock" in o.cancel_reason for o in finals if o.status == CANCELLED)
    assert shops[0].stock(sku) == shops[1].stock(sku) == (50, 50, 0)
    auths = collections.Counter(e["reference"] for e in ledger(pair.sandbox.url)
                                if e["kind"] == "authorization" and e["reference"] in set(ids))
    assert max(auths.values(), default=0) <= 1, auths.most_common(3)


def test_one_key_sent_to_both_replicas_at_once_is_one_order_one_authorization(pair):
    admin = pair.clients[0]
    sku = unique("CAP2")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 50)
    shops = pair.both("storefront", "shop-a")
    request = place_request([(sku, 1)], card(sandbox_card(pair.sandbox.url)), key=unique("k"))
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(
            lambda i: shops[i % 2].orders.PlaceOrder(request, metadata=shops[i % 2].metadata),
            range(20)))
    assert len({r.order_id for r in replies}) == 1
    order_id = replies[0].order_id
    order = shops[1].wait_status(order_id, FINAL)
    assert order.status == PROCESSING
    # Asked again afterwards, each replica gives the one stored reply.
    again = [s.orders.PlaceOrder(request, metadata=s.metadata) for s in shops]
    assert len({r.SerializeToString(deterministic=True) for r in again}) == 1
    assert again[0].order_id == order_id
    assert shops[0].stock(sku) == (50, 1, 49)
    auths = [e for e in ledger(pair.sandbox.url, order_id) if e["kind"] == "authorization"]
    assert len(auths) == 1


# -- a replica killed ---------------------------------------------------------------------------

def test_sigkill_one_replica_mid_saga_the_other_finishes_every_saga_without_double_charges(
        pg_url, tmp_path):
    with replicas(pg_url, tmp_path, latency_ms=400) as two:
        admin = two.client(two.a, "admin")
        admin.fc("FC-BLR")
        sku = unique("CRASH2")
        admin.product(sku)
        admin.receive("FC-BLR", sku, 30)
        shops = two.both("storefront", "shop-a")
        token = sandbox_card(two.sandbox.url)
        declined = sandbox_card(two.sandbox.url, "4000000000000002")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            placed = list(pool.map(
                lambda i: shops[i % 2].place([(sku, 1)],
                                             card(declined if i % 5 == 0 else token)),
                range(30)))
        on_a = {o.order_id for i, o in enumerate(placed) if i % 2 == 0}
        # Kill the first while its holds are in flight at the (slow) sandbox: the second has
        # 15 orders, so the 16th hold to arrive is one of the first's. (The sandbox's request
        # counts answer at once; its ledger, like every gateway route, answers slowly.)
        _wait(lambda: two.requests()["requests"].get("POST /v1/authorizations", 0) >= 16,
              "the holds did not reach the sandbox", 30)
        two.a.kill()

        def pending_of_a(s):  # type: ignore[no-untyped-def]
            return s.scalar(select(func.count()).select_from(Order).where(
                Order.status == "PENDING", Order.order_id.in_(on_a)))
        assert _query(pg_url, pending_of_a), "the kill came too late to interrupt any saga"

        finals = [shops[1].wait_status(o.order_id, FINAL, timeout_s=60) for o in placed]
        assert all(o.status in FINAL for o in finals), [o.status for o in finals]
        processing = sum(o.status == PROCESSING for o in finals)
        # every fifth card is declined; stock suffices for the rest
        assert processing == 24, [o.cancel_reason for o in finals if o.status == CANCELLED]
        auths = collections.Counter(e["reference"] for e in ledger(two.sandbox.url)
                                    if e["kind"] == "authorization")
        assert set(auths) == {o.order_id for o in placed}
        assert max(auths.values()) == 1, auths.most_common(3)
        assert shops[1].stock(sku)[:2] == (30, 24)
        assert "sagas from a replica whose lease expired" in _log(two.b), \
            "the survivor never said it took the killed replica's sagas over"
        assert value(scrape(two.b), "tote_lease_takeovers_total", worker="saga") >= 1
    _no_orphan_locks(pg_url)


def test_sigkill_one_replica_mid_packing_the_other_packs_with_one_capture_each(pg_url, tmp_path):
    with replicas(pg_url, tmp_path, latency_ms=300) as two:
        admin = two.client(two.a, "admin")
        admin.fc("FC-BLR")
        sku = unique("CRASHPACK2")
        admin.product(sku, weight_grams=350)
        admin.receive("FC-BLR", sku, 10)
        token = sandbox_card(two.sandbox.url)
        placed = [admin.place([(sku, 1)], card(token)) for _ in range(3)]
        orders = [admin.wait_status(o.order_id, FINAL) for o in placed]
        assert all(o.status == PROCESSING for o in orders)
        packer_a, packer_b = two.both("picker", "p1", "FC-BLR")
        pick(two.a, packer_a, "")  # FC-BLR's whole queue

        def pack(client: Client, order_id: str) -> None:
            client.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
                order_id=order_id, weight_grams=350 + 250, box="M"),
                metadata=client.metadata, timeout=60)

        def pack_on_a(order_id: str) -> None:
            with contextlib.suppress(grpc.RpcError):  # the replica dies under the call
                pack(packer_a, order_id)

        threads = [threading.Thread(target=pack_on_a, args=(o.order_id,)) for o in orders]
        for t in threads:
            t.start()
        # Kill once a parcel is at packing: its capture is in flight at the slow sandbox.
        _wait(lambda: any(s.status == "packing" for o in orders
                          for s in admin.get(o.order_id).shipments),
              "no parcel reached packing", 30)
        two.a.kill()
        for t in threads:
            t.join(30)

        def statuses(s):  # type: ignore[no-untyped-def]
            return dict(s.execute(select(Shipment.order_id, Shipment.status).where(
                Shipment.order_id.in_([o.order_id for o in orders]))).all())
        at_kill = _query(pg_url, statuses)
        assert isinstance(at_kill, dict) and "packing" in at_kill.values(), \
            f"the kill came too late to interrupt packing: {at_kill}"
        # A parcel whose PackOrder never reached the killed replica waits for the packer, who
        # tries again on the other; the ones at packing are the other's to finish by itself.
        for order_id, status in at_kill.items():
            if status == "picked":
                pack(packer_b, order_id)
        admin_b = two.client(two.b, "admin")
        finals = [admin_b.wait_status(o.order_id, {PACKED, CANCELLED}, timeout_s=60)
                  for o in orders]
        assert [f.status for f in finals] == [PACKED] * 3, [f.cancel_reason for f in finals]
        assert all(f.tracking_number for f in finals)
        captures = collections.Counter(e["reference"] for e in ledger(two.sandbox.url)
                                       if e["kind"] == "capture")
        assert captures == {o.order_id: 1 for o in orders}
        assert "packing(s) from a replica whose lease expired" in _log(two.b), \
            "the survivor never said it took the killed replica's packings over"


def test_sigterm_one_replica_hands_its_sagas_to_the_other_at_once(pg_url, tmp_path):
    with replicas(pg_url, tmp_path, latency_ms=1500) as two:
        admin = two.client(two.a, "admin")
        admin.fc("FC-BLR")
        sku = unique("TERM2")
        admin.product(sku)
        admin.receive("FC-BLR", sku, 10)
        token = sandbox_card(two.sandbox.url)
        placed = [admin.place([(sku, 1)], card(token)) for _ in range(6)]
        _wait(lambda: two.requests()["requests"].get("POST /v1/authorizations", 0) >= 1,
              "the holds did not reach the sandbox", 30)
        assert two.a.terminate() == 0
        # Stopping, the first gave its sagas back (due now, no lease): the second runs them
        # as its own work, not as a takeover of a lapsed lease.
        watcher = two.client(two.b, "admin")
        finals = [watcher.wait_status(o.order_id, FINAL, timeout_s=60) for o in placed]
        assert [f.status for f in finals] == [PROCESSING] * 6, [f.cancel_reason for f in finals]
        auths = collections.Counter(e["reference"] for e in ledger(two.sandbox.url)
                                    if e["kind"] == "authorization")
        assert auths == {o.order_id: 1 for o in placed}
        assert "sagas from a replica whose lease expired" not in _log(two.b), \
            "the stopping replica kept its sagas' leases: they waited for them to lapse"


# -- whole-pass workers: one replica per pass ---------------------------------------------------

def test_tracking_polls_and_settlement_are_done_by_one_replica_and_taken_over_when_it_dies(
        pg_url, tmp_path):
    with replicas(pg_url, tmp_path, args=("--tracking-poll-s", "0.5",
                                          "--settlement-interval-s", "0.5")) as two:
        admin = two.client(two.a, "admin", "ops")
        admin.fc("FC-BLR")
        sku = unique("MUG2")
        admin.product(sku, price_minor=49_900, weight_grams=350)
        admin.receive("FC-BLR", sku, 5)
        shop = two.client(two.b, "storefront", "shop-a")
        ops = two.client(two.a, "supervisor", "ops")
        token = sandbox_card(two.sandbox.url)
        first, second = (shop.place([(sku, 2)], card(token)) for _ in range(2))
        for placed in (first, second):
            assert shop.wait_status(placed.order_id, FINAL).status == PROCESSING
        parcels = [pick_and_pack(two.a, p.order_id) for p in (first, second)]
        hand_off(ops, parcels[0])  # alone on its way: a pass is one poll
        polls = [f"GET /v1/shipments/{t}" for t in parcels]
        # Each answer now takes 1 s, twice the pass interval: two replicas polling the parcel
        # or settling a capture each pass would have two such requests in flight at once.
        two.latency(1000)
        before = two.requests()["requests"].get(polls[0], 0)
        _wait(lambda: two.requests()["requests"].get(polls[0], 0) >= before + 3,
              "the parcel is not being polled")
        assert two.requests()["peak_in_flight"][polls[0]] == 1, \
            "two replicas polled one parcel at once"

        # Delivered (webhooks, or polls), then its capture settled.
        for _ in range(3):
            httpx.post(f"{two.sandbox.url}/v1/shipments/{parcels[0]}/advance", json={},
                       timeout=30).raise_for_status()
        assert shop.wait_status(first.order_id, {DELIVERED}, timeout_s=60).status == DELIVERED
        _wait(lambda: shop.get(first.order_id).payment.state == "settled",
              "the capture was not settled")
        counts = two.requests()
        assert counts["peak_in_flight"][polls[0]] == 1, "two replicas polled one parcel at once"
        assert counts["requests"]["POST /v1/settlements"] == 1, \
            "the capture was sent for settlement more than once"
        assert len([e for e in ledger(two.sandbox.url, first.order_id)
                    if e["kind"] == "settlement"]) == 1
        two.latency(0)
        hand_off(ops, parcels[1])

        # The holder of the tracking lease dies: the other takes polling over within the lease.
        def holder(s):  # type: ignore[no-untyped-def]
            return s.scalar(select(WorkerLease.holder).where(WorkerLease.name == "tracking"))
        held_by = str(_query(pg_url, holder))
        pid_a = two.a.proc.pid  # type: ignore[union-attr]
        dead, survivor = (two.a, two.b) if f":{pid_a}:" in held_by else (two.b, two.a)
        assert f":{dead.proc.pid}:" in held_by, held_by  # type: ignore[union-attr]
        dead.kill()
        _wait(lambda: "took over 1 tracking lease" in _log(survivor),
              "no replica took the tracking lease over")
        assert value(scrape(survivor), "tote_lease_takeovers_total", worker="tracking") == 1
        before = two.requests()["requests"].get(polls[1], 0)
        _wait(lambda: two.requests()["requests"].get(polls[1], 0) >= before + 2,
              "polling did not resume on the survivor")
