"""Commit → receipt latency of WatchOrders across two replicas on one PostgreSQL database.

    .venv/bin/python bench/watch_replicas.py [--orders 300] [--concurrency 8]
                                             [--pg postgresql+psycopg://postgres@127.0.0.1/test]

Two real `tote serve` replicas on a fresh database; a WatchOrders stream on each; COD orders
placed through both (every other one through each, --concurrency at a time), each running its
saga on whichever replica claims it. For every event each stream receives: receipt time minus
the event's `occurred_at` (stamped in the transaction that commits it: a little before the
commit, so the figures are an upper bound). Prints p50/p99/max per stream and over both, and
whether each stream saw every event once. Asserts nothing.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.persistence import migrate  # noqa: E402
from tests.conftest import PG_URL, drop_pg_database, fresh_pg_database  # noqa: E402
from tests.harness import Client, ToteServer, cod, unique  # noqa: E402
from tote.v1 import common_pb2 as pb  # noqa: E402
from tote.v1 import orders_pb2  # noqa: E402


def watch(client: Client, out: list[tuple[int, float, float]]) -> grpc.Future:  # type: ignore[type-arg]
    call = client.orders.WatchOrders(orders_pb2.WatchOrdersRequest(), metadata=client.metadata)

    def read() -> None:
        try:
            for event in call:
                out.append((int(event.event_id), time.time(),
                            event.occurred_at.ToMicroseconds() / 1e6))
        except grpc.RpcError:
            pass

    threading.Thread(target=read, daemon=True).start()
    return call


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pg", default=PG_URL)
    args = parser.parse_args()
    url, name = fresh_pg_database(args.pg)
    work = Path(tempfile.mkdtemp(prefix="tote-watch-bench-"))
    try:
        migrate.upgrade(url)
        (work / "a").mkdir()
        (work / "b").mkdir()
        a, b = ToteServer(url, work / "a").start(), ToteServer(url, work / "b").start()
        try:
            token = a.token("admin", "bench")
            clients = [Client(a.grpc_address, token), Client(b.grpc_address, token)]
            clients[0].fc("FC-BLR")
            sku = unique("BENCH")
            clients[0].product(sku)
            clients[1].receive("FC-BLR", sku, args.orders * 2)
            seen: list[list[tuple[int, float, float]]] = [[], []]
            calls = [watch(c, s) for c, s in zip(clients, seen, strict=True)]
            # Live once each stream shows an order placed after it opened.
            probe = clients[0].place([(sku, 1)], cod()).order_id
            clients[1].wait_status(probe, {pb.ORDER_STATUS_PROCESSING})
            deadline = time.monotonic() + 30
            while any(len(s) == 0 for s in seen) and time.monotonic() < deadline:
                time.sleep(0.05)
            for s in seen:
                s.clear()
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
                placed = list(pool.map(
                    lambda i: clients[i % 2].place([(sku, 1)], cod()).order_id,
                    range(args.orders)))
            for order_id in placed:
                clients[0].wait_status(order_id, {pb.ORDER_STATUS_PROCESSING}, 120)
            took = time.monotonic() - started
            time.sleep(2)  # the last events' receipts (a bench, not a test)
            for call in calls:
                call.cancel()
            print(f"{args.orders} COD orders through 2 replicas in {took:.1f} s")
            every: list[float] = []
            for label, s in zip("AB", seen, strict=True):
                lat = [(got - at) * 1000 for _, got, at in s]
                ids = [i for i, _, _ in s]
                every += lat
                print(f"stream on {label}: {len(ids)} events, {len(ids) - len(set(ids))} twice, "
                      f"in id order: {ids == sorted(ids)}; latency ms p50 "
                      f"{statistics.median(lat):.0f} p99 {pct(lat, 0.99):.0f} max {max(lat):.0f}")
            print(f"both: p50 {statistics.median(every):.0f} ms, p99 {pct(every, 0.99):.0f} ms, "
                  f"max {max(every):.0f} ms")
            for c in clients:
                c.close()
        finally:
            a.terminate()
            b.terminate()
    finally:
        drop_pg_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
