"""Throughput of the spine, each figure beside the ceiling measured in the same run.

    .venv/bin/python bench/saga.py [--seconds 5] [--concurrency 1,8,32]
                                   [--compare-no-orders-first]
    .venv/bin/python bench/saga.py --db postgresql+psycopg://USER@HOST:PORT/DB --replicas 1,2
                                   [--seconds 5] [--concurrency 8,32] [--rounds 2]

With --db on PostgreSQL, bench/saga_pg.py runs instead: tote serve replicas on a fresh database
of that server beside the DBOS peer (its docstring says what it prints). Without it:

1. a bare grpc.aio echo server's unary QPS (the ceiling of any RPC here);
2. raw sqlite3 WAL commits/s of an order row plus an outbox row (the ceiling of durable steps),
   one unit per commit and 32 per commit, beside tote's saga steps through its DbExecutor
   (group commit, 32 concurrent callers) writing the same unit;
3. tote serve on SQLite with the sandbox at zero latency: PlaceOrder accepted/s with p50/p99,
   and PlaceOrder → PROCESSING sagas/s sustained, per concurrency level — with the sandbox in
   its own process (as a real gateway would be) and inside tote's process (`--sandbox`); with
   --compare-no-orders-first, also without orders first (every saga starts when kicked).
Each tote row's ceiling is the echo server measured again just before it, at the same
concurrency, after a sync of the disk. Prints figures and ratios; asserts nothing (speed is
measured here, not in tests).
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

from tests.harness import (  # noqa: E402
    SandboxProcess,
    ToteServer,
    card,
    free_port,
    place_request,
    sandbox_card,
)

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


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, every thread) a process and its live children (tote serve's
    SQLite writer process) have used so far (Linux /proc)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return kids


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


def raw_sqlite_grouped(path: str, seconds: float, group: int = 32) -> float:
    """The same unit of work, `group` units per commit: the ceiling of group commit."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE o (id TEXT PRIMARY KEY, status TEXT, total INTEGER, body TEXT)")
    conn.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, oid TEXT, type TEXT, detail TEXT)")
    n, stop = 0, time.perf_counter() + seconds
    while time.perf_counter() < stop:
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(group):
            oid = uuid.uuid4().hex
            conn.execute("INSERT INTO o VALUES (?, 'PENDING', 1234, ?)", (oid, "x" * 300))
            conn.execute("INSERT INTO e (oid, type, detail) VALUES (?, 'Order_Created', '')",
                         (oid,))
        conn.execute("COMMIT")
        n += group
    conn.close()
    return n / seconds


def tote_commits(path: str, seconds: float, concurrency: int = 32) -> float:
    """Durable saga steps through tote's real write path, from `concurrency` asyncio tasks.

    Each step is the RecordPaymentAuthorized command executed by the DbExecutor (SQLite: its one
    writer thread with group commit, synchronous=FULL): read the order row under the write
    lock, compare-and-set its payment state, UPDATE the row and INSERT the Payment_Authorized
    outbox event — an order row plus an outbox row, committed before the caller is answered.
    """
    from core.domain.saga_commands import RecordPaymentAuthorized
    from core.persistence import migrate
    from core.persistence.db import Database
    from core.persistence.models import Order
    from server.dbexec import DbExecutor

    migrate.upgrade(path)
    db = Database(path)
    now = datetime.now(UTC)
    seeded = int(seconds * 8000) + 2000  # more orders than can be authorized in the time
    ids = [f"ord_{uuid.uuid4().hex[:26]}" for _ in range(seeded)]
    with db.write_engine.begin() as conn:
        conn.execute(Order.__table__.insert(), [dict(
            order_id=oid, storefront="bench", idempotency_key=oid, request_hash="h",
            customer_id="c", currency="INR", subtotal_minor=1, shipping_fee_minor=1,
            total_minor=2, weight_grams=1, ship_to={"name": "x" * 100}, status="PENDING",
            inventory_state="pending", payment_method="card", payment_state="authorizing",
            payment_token="tok", authorized_minor=0, captured_minor=0,
            created_at=now, updated_at=now) for oid in ids])
    dbx = DbExecutor(db)
    todo = iter(ids)

    async def run() -> int:
        done, stop = 0, time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                st = await dbx.execute(RecordPaymentAuthorized(
                    next(todo), "auth_1", 2, datetime.now(UTC), "card hold auth_1"))
                assert st is not None and st.payment == "authorized"
                done += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done

    try:
        return asyncio.run(run()) / seconds
    finally:
        dbx.shutdown()
        db.dispose()


# -- 3. tote serve --------------------------------------------------------------------------------

def _finished(db_path: str) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM orders WHERE status IN "
                            "('PROCESSING','CANCELLED')").fetchone()[0]
    finally:
        conn.close()


def tote_run(
    workdir: Path, levels: list[int], seconds: float, *, own_sandbox: bool,
    extra: tuple[str, ...] = (),
) -> list[dict[str, float]]:
    """tote serve on a fresh SQLite file; the sandbox in its own process, or inside tote's."""
    workdir.mkdir()
    db_path = str(workdir / "bench.db")
    sandbox = None
    if own_sandbox:
        # The gateway is an outside party: in its own process it does not share tote's GIL.
        webhook_port = free_port()
        sandbox = SandboxProcess(workdir, f"http://127.0.0.1:{webhook_port}/webhooks/gateway")
        sandbox.start()
        server = ToteServer(db_path, workdir, sandbox=False, webhook_port=webhook_port,
                            args=["--gateway-url", sandbox.url, "--carrier-url", sandbox.url,
                                  "--log-level", "WARNING", *extra])
    else:
        server = ToteServer(db_path, workdir, args=["--log-level", "WARNING", *extra])
    try:
        server.start()
    except BaseException:
        if sandbox is not None:
            sandbox.stop()
        raise
    admin = server.client(server.token("admin", "bench"))
    admin.fc("FC-BENCH")
    admin.product("BENCH-SKU", price_minor=10_000, weight_grams=100)
    admin.receive("FC-BENCH", "BENCH-SKU", 1_000_000)
    token = sandbox_card(sandbox.url if sandbox is not None else server.sandbox_url)
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
            assert server.proc is not None
            cpu0, t0 = cpu_s(server.proc.pid), time.perf_counter()
            n, lat = await _drive(call, concurrency, seconds)
            placing = time.perf_counter() - t0
            target = before_placed + n
            while _finished(db_path) < target:
                await asyncio.sleep(0.01)
            total = time.perf_counter() - t0
            cpu = cpu_s(server.proc.pid) - cpu0
            lat.sort()
            return {"concurrency": concurrency, "placed_per_s": n / placing,
                    "p50_ms": 1000 * statistics.median(lat),
                    "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
                    "sagas_per_s": (_finished(db_path) - before_done) / total,
                    "cpu_ms": 1000 * cpu / n}

    try:
        for c in levels:
            # The ceiling again, just before: this machine's speed drifts between minutes
            # (neighbours, frequency), and a ratio is only fair within one stretch of time.
            os.sync()  # the previous phase's dirty pages would compete with tote's fsyncs
            time.sleep(1)
            echo = echo_qps(c, seconds)
            results.append({**asyncio.run(place_at(c)), "echo": echo})
    finally:
        admin.close()
        server.terminate()
        if sandbox is not None:
            sandbox.stop()
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
    parser.add_argument("--compare-no-orders-first", action="store_true",
                        help="also run tote serve --no-orders-first (every saga starts at once)")
    parser.add_argument("--db", help="a PostgreSQL URL: bench tote on a fresh database of that "
                        "server (created and dropped here) beside the DBOS peer (bench/saga_pg.py)")
    parser.add_argument("--replicas", default="1,2",
                        help="with --db: replica counts to run, e.g. 1,2")
    parser.add_argument("--rounds", type=int, default=2,
                        help="with --db: each configuration this many times, interleaved")
    parser.add_argument("--dbos-concurrency", type=int, default=16,
                        help="with --db: the DBOS peer's concurrent workflows")
    parser.add_argument("--dbos-workflows", type=int, default=300,
                        help="with --db: the DBOS peer's measured workflows")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    if args.db:
        if not args.db.startswith(("postgresql", "postgres:")):
            parser.error("--db takes a PostgreSQL URL (without it the bench runs on SQLite)")
        from bench import saga_pg

        saga_pg.run(args.db, [int(n) for n in args.replicas.split(",")], levels, args.seconds,
                    args.rounds, args.dbos_concurrency, args.dbos_workflows)
        return
    print(f"tote bench — {os.cpu_count()} cores, {args.seconds:g} s per figure\n", flush=True)
    echo = {c: echo_qps(c, args.seconds) for c in levels}
    for c in levels:
        print(f"echo grpc.aio unary, concurrency {c:>3}: {echo[c]:8.0f} calls/s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_sqlite_commits(f"{tmp}/raw.db", args.seconds)
        grouped = raw_sqlite_grouped(f"{tmp}/grouped.db", args.seconds)
        mine = tote_commits(f"{tmp}/tote.db", args.seconds)
        print("\ndurable units of work (an order row + an outbox row), WAL, synchronous=FULL:")
        print(f"  raw sqlite3, one thread, one unit per COMMIT:          {raw:8.0f}/s")
        print(f"  raw sqlite3, one thread, 32 units per COMMIT:          {grouped:8.0f}/s")
        print(f"  tote saga steps via DbExecutor, 32 tasks, group commit: {mine:8.0f}/s"
              f"   × raw per-commit {mine / raw:.2f} (target ≥ 0.50),"
              f" × raw grouped {mine / grouped:.2f}\n", flush=True)
        tables = [
            ("tote serve --gateway-url (sandbox in its own process)",
             tote_run(Path(tmp) / "own", levels, args.seconds, own_sandbox=True)),
            ("tote serve --sandbox (sandbox inside tote's process, sharing its GIL)",
             tote_run(Path(tmp) / "inproc", levels, args.seconds, own_sandbox=False)),
        ]
        if args.compare_no_orders_first:
            tables.append(("tote serve --gateway-url --no-orders-first (sagas never give way)",
                           tote_run(Path(tmp) / "saga-first", levels, args.seconds,
                                    own_sandbox=True, extra=("--no-orders-first",))))
    best_echo = max([*echo.values(), *(r["echo"] for _t, rows in tables for r in rows)])
    for title, rows in tables:
        print(f"{title}, SQLite, card orders, sandbox at zero latency:")
        print(f"{'conc':>5} {'echo/s':>7} {'PlaceOrder/s':>13} {'× echo':>7} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'sagas→PROCESSING/s':>19} {'× best':>7} {'CPU ms/order':>12}")
        for r in rows:
            e = r["echo"]
            print(f"{int(r['concurrency']):>5} {e:>7.0f} {r['placed_per_s']:>13.0f} "
                  f"{r['placed_per_s'] / e:>7.2f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
                  f"{r['sagas_per_s']:>19.0f} {r['sagas_per_s'] / best_echo:>7.3f}"
                  f" {r['cpu_ms']:>12.2f}")
        print()
    print("echo/s: the bare echo server at that concurrency, measured just before the row;\n"
          "PlaceOrder/s: accepted while placing; sagas→PROCESSING/s: orders that reached\n"
          "PROCESSING (or CANCELLED) from the first placement until the last one's saga finished;\n"
          "CPU ms/order: tote serve's CPU time (all threads) over that span per order placed.\n"
          "targets: PlaceOrder ≥ 0.30 × echo QPS at the same concurrency; "
          "sagas to PROCESSING ≥ 0.06 × the best echo QPS (× best)")


if __name__ == "__main__":
    main()
