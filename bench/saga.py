"""Throughput of the spine, each figure beside the ceiling measured in the same run.

    .venv/bin/python bench/saga.py [--seconds 5] [--concurrency 1,8,32]

1. a bare grpc.aio echo server's unary QPS (the ceiling of any RPC here);
2. raw sqlite3 WAL commits/s of an order row plus an outbox row (the ceiling of durable steps),
   and the same through tote's own persistence layer;
3. tote serve on SQLite with the sandbox at zero latency: PlaceOrder accepted/s with p50/p99,
   and PlaceOrder → PROCESSING sagas/s sustained, per concurrency level.
Prints figures and ratios; asserts nothing (speed is measured here, not in tests).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from grpc import aio  # noqa: E402

from tests.harness import ToteServer, card, place_request, sandbox_card  # noqa: E402

ECHO = "/bench.Echo/Echo"


# -- 1. the echo ceiling ------------------------------------------------------------------------

def _echo_server(port_queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    async def main() -> None:
        async def echo(request: bytes, context: aio.ServicerContext) -> bytes:
            return request

        server = aio.server()
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        port_queue.put(port)
        await server.wait_for_termination()

    asyncio.run(main())


async def _drive(call, concurrency: int, seconds: float) -> tuple[int, list[float]]:  # type: ignore[no-untyped-def]
    """Run `call()` from `concurrency` workers for `seconds`; (calls done, latencies in s)."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), latencies


def echo_qps(concurrency: int, seconds: float) -> float:
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_echo_server, args=(ports,), daemon=True)
    proc.start()
    port = ports.get(timeout=30)

    async def run() -> float:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = channel.unary_unary(ECHO)
            payload = b"x" * 200
            await _drive(lambda: stub(payload), concurrency, 0.5)  # warm up
            n, _ = await _drive(lambda: stub(payload), concurrency, seconds)
            return n / seconds

    try:
        return asyncio.run(run())
    finally:
        proc.terminate()
        proc.join()


# -- 2. the durable-commit ceiling --------------------------------------------------------------

def raw_sqlite_commits(path: str, seconds: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE o (id TEXT PRIMARY KEY, status TEXT, total INTEGER, body TEXT)")
    conn.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, oid TEXT, type TEXT, detail TEXT)")
    n, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        oid = uuid.uuid4().hex
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO o VALUES (?, 'PENDING', 1234, ?)", (oid, "x" * 300))
        conn.execute("INSERT INTO e (oid, type, detail) VALUES (?, 'Order_Created', '')", (oid,))
        conn.execute("COMMIT")
        n += 1
    conn.close()
    return n / seconds


def tote_commits(path: str, seconds: float) -> float:
    """The same unit of work through tote's Database (SQLAlchemy ORM, BEGIN IMMEDIATE)."""
    from core.domain.events import EventType
    from core.persistence import migrate
    from core.persistence.db import Database
    from core.persistence.models import Order
    from core.service import events

    migrate.upgrade(path)
    db = Database(path)
    now = datetime.now(UTC)

    def place(session) -> None:  # type: ignore[no-untyped-def]
        oid = "ord_" + uuid.uuid4().hex[:26]
        order = Order(order_id=oid, storefront="bench", idempotency_key=oid, request_hash="h",
                      customer_id="c", currency="INR", subtotal_minor=1, shipping_fee_minor=1,
                      total_minor=2, weight_grams=1, ship_to={"name": "x" * 100},
                      status="PENDING", inventory_state="pending", payment_method="cod",
                      payment_state="cod_pending", created_at=now, updated_at=now)
        session.add(order)
        events.record(session, order, EventType.ORDER_CREATED, now, "")

    n, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        db.run_write(place)
        n += 1
    db.dispose()
    return n / seconds


# -- 3. tote serve --------------------------------------------------------------------------------

def _finished(db_path: str) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM orders WHERE status IN "
                            "('PROCESSING','CANCELLED')").fetchone()[0]
    finally:
        conn.close()


def tote_run(workdir: Path, levels: list[int], seconds: float) -> list[dict[str, float]]:
    db_path = str(workdir / "bench.db")
    server = ToteServer(db_path, workdir, args=["--log-level", "WARNING"]).start()
    admin = server.client(server.token("admin", "bench"))
    admin.fc("FC-BENCH")
    admin.product("BENCH-SKU", price_minor=10_000, weight_grams=100)
    admin.receive("FC-BENCH", "BENCH-SKU", 1_000_000)
    token = sandbox_card(server.sandbox_url)
    results = []

    async def place_at(concurrency: int) -> dict[str, float]:
        async with aio.insecure_channel(server.grpc_address) as channel:
            from tote.v1 import orders_pb2_grpc

            stub = orders_pb2_grpc.OrderServiceStub(channel)

            def call():  # type: ignore[no-untyped-def]
                return stub.PlaceOrder(place_request([("BENCH-SKU", 1)], card(token)),
                                       metadata=admin.metadata)

            await _drive(call, concurrency, 0.5)
            while _finished(db_path) < _placed(db_path):  # let the warm-up sagas finish
                await asyncio.sleep(0.05)
            before_done, before_placed = _finished(db_path), _placed(db_path)
            t0 = time.perf_counter()
            n, lat = await _drive(call, concurrency, seconds)
            placing = time.perf_counter() - t0
            target = before_placed + n
            while _finished(db_path) < target:
                await asyncio.sleep(0.01)
            total = time.perf_counter() - t0
            lat.sort()
            return {"concurrency": concurrency, "placed_per_s": n / placing,
                    "p50_ms": 1000 * statistics.median(lat),
                    "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
                    "sagas_per_s": (_finished(db_path) - before_done) / total}

    try:
        for c in levels:
            results.append(asyncio.run(place_at(c)))
    finally:
        admin.close()
        server.terminate()
    return results


def _placed(db_path: str) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", default="1,8,32")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"tote bench — {os.cpu_count()} cores, {args.seconds:g} s per figure\n", flush=True)
    echo = {c: echo_qps(c, args.seconds) for c in levels}
    for c in levels:
        print(f"echo grpc.aio unary, concurrency {c:>3}: {echo[c]:8.0f} calls/s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_sqlite_commits(f"{tmp}/raw.db", args.seconds)
        mine = tote_commits(f"{tmp}/tote.db", args.seconds)
        print(f"\nraw sqlite3 WAL (synchronous=FULL) order+outbox commits: {raw:8.0f}/s")
        print(f"tote's persistence layer, same unit of work:             {mine:8.0f}/s"
              f"   ratio {mine / raw:.2f} (target ≥ 0.50)\n", flush=True)
        rows = tote_run(Path(tmp), levels, args.seconds)
    best_echo = max(echo.values())
    print("tote serve --sandbox on SQLite (card orders, sandbox at zero latency):")
    print(f"{'conc':>5} {'PlaceOrder/s':>13} {'× echo':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'sagas→PROCESSING/s':>19} {'× echo':>7}")
    for r in rows:
        e = echo[int(r["concurrency"])]
        print(f"{int(r['concurrency']):>5} {r['placed_per_s']:>13.0f} "
              f"{r['placed_per_s'] / e:>7.2f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
              f"{r['sagas_per_s']:>19.0f} {r['sagas_per_s'] / best_echo:>7.3f}")
    print("\ntargets: PlaceOrder ≥ 0.30 × echo QPS at the same concurrency; "
          "sagas to PROCESSING ≥ 0.06 × the best echo QPS")


if __name__ == "__main__":
    main()
