"""What `--metrics-listen` costs per call: a GetOrder loop on two real servers, with and without.

    .venv/bin/python bench/metrics_overhead.py [--calls 2000] [--rounds 6] [--db sqlite|URL]

Two `tote serve --sandbox` (each on a SQLite file of its own, or each on a fresh PostgreSQL
database made from URL), one with `--metrics-listen 127.0.0.1:0` and one without, take rounds
of GetOrder calls in turn (alternating which goes first), so both see the same stretch of a
shared machine. Per call: the client's wall time and the server process's CPU (utime+stime
from /proc). Prints medians over rounds; asserts nothing. On a busy machine those figures move by
a few per cent from run to run, so it also times the metrics' own work in one process, without
gRPC's transport: the interceptor and its handler wrapper around a handler that does nothing,
and one database transaction's observation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402

from core.persistence import migrate  # noqa: E402
from server.metrics import Metrics, RpcMetricsInterceptor  # noqa: E402
from tests.harness import Client, ToteServer, cod  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """The process's user + system CPU seconds so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def database(where: str, folder: Path, name: str) -> str:
    if where == "sqlite":
        url = str(folder / f"{name}.db")
    else:
        from tests.conftest import fresh_pg_database

        url, _ = fresh_pg_database(where)
    migrate.upgrade(url)
    return url


def rounds_of(server: ToteServer, client: Client, order_id: str, calls: int,
              ) -> tuple[float, float]:
    """(wall µs, server CPU µs) per GetOrder over `calls` calls."""
    assert server.proc is not None
    cpu0, t0 = cpu_s(server.proc.pid), time.perf_counter()
    for _ in range(calls):
        client.get(order_id)
    wall = time.perf_counter() - t0
    cpu = cpu_s(server.proc.pid) - cpu0
    return wall / calls * 1e6, cpu / calls * 1e6


class _Details:
    method = "/tote.v1.OrderService/GetOrder"
    invocation_metadata = ()


async def in_process(calls: int = 200_000) -> tuple[float, float, float]:
    """(µs per call bare, µs with the metrics interceptor, µs per transaction observed)."""
    async def handler(request: object, context: object) -> None:
        return None

    plain = grpc.unary_unary_rpc_method_handler(handler)

    async def continuation(details: object) -> grpc.RpcMethodHandler:
        return plain

    metrics = Metrics()
    interceptor = RpcMetricsInterceptor(metrics)
    details = _Details()
    t0 = time.perf_counter()
    for _ in range(calls):
        found = await continuation(details)
        await found.unary_unary(None, None)
    bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(calls):
        found = await interceptor.intercept_service(continuation, details)  # type: ignore[arg-type]
        await found.unary_unary(None, None)
    timed = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(calls):
        metrics.db_transaction_done("read", 0.001)
    db = time.perf_counter() - t0
    return bare / calls * 1e6, timed / calls * 1e6, db / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
    bare, timed, db = asyncio.run(in_process())
    print(f"in one process: a call {bare:.2f} µs bare, {timed:.2f} µs with the metrics "
          f"interceptor (+{timed - bare:.2f} µs); a transaction observed {db:.2f} µs")
    folder = Path(tempfile.mkdtemp())
    servers = {
        "without": ToteServer(database(args.db, folder, "plain"), folder / "plain"),
        "with --metrics-listen": ToteServer(database(args.db, folder, "metrics"),
                                            folder / "metrics",
                                            args=["--metrics-listen", "127.0.0.1:0"]),
    }
    clients: dict[str, tuple[Client, str]] = {}
    try:
        for name, server in servers.items():
            server.workdir.mkdir()
            server.start()
            admin = server.client(server.token("admin", "bench"))
            admin.fc("FC-BENCH")
            admin.product("SKU-BENCH")
            admin.receive("FC-BENCH", "SKU-BENCH", 10)
            order = admin.place([("SKU-BENCH", 1)], cod())
            for _ in range(200):  # warm up: token cache, connections, code paths
                admin.get(order.order_id)
            clients[name] = (admin, order.order_id)
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
        names = list(servers)
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else reversed(names):
                client, order_id = clients[name]
                figures[name].append(rounds_of(servers[name], client, order_id, args.calls))
        for name, rows in figures.items():
            wall = statistics.median(w for w, _ in rows)
            cpu = statistics.median(c for _, c in rows)
            print(f"GetOrder {name:>22}: {wall:7.0f} µs/call (client wall), "
                  f"{cpu:6.0f} µs server CPU/call, median of {args.rounds} × {args.calls}")
        base, timed = (statistics.median(c for _, c in figures[n]) for n in names)
        print(f"server CPU per call with metrics: {timed / base:.3f} × without")
        metrics_url = servers["with --metrics-listen"].metrics_url
        print(f"(metrics at {metrics_url})")
    finally:
        for client, _ in clients.values():
            client.close()
        for server in servers.values():
            if server.proc is not None:
                server.terminate()


if __name__ == "__main__":
    main()
