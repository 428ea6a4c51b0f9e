"""Slow watchers: server memory and GetOrder latency while many WatchOrders streams never read.

    .venv/bin/python bench/watchers.py [--streams 1000] [--orders 2500] [--history 200]
                                       [--server-root DIR]

A real `tote serve` on SQLite: --history orders are placed first; then a child process opens
--streams WatchOrders streams from after_event_id="0" (a replay from the first event), over
one connection per 50 streams, and stops itself (SIGSTOP: from then on nothing reads those
sockets, as with a hung client); then --orders COD orders are placed back to back (16 at a
time) while a probe calls GetOrder continuously; then the child is killed (every stream's
connection drops) and the server is left alone for --settle-s. Prints the server's RSS at the
start / after opening / peak / --settle-s after the streams closed, GetOrder p50/p99/max
during the burst, and the server log's ERROR lines. --server-root runs another checkout's
server (e.g. the code before a change) with this bench. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grpc import aio  # noqa: E402

from core.persistence import migrate  # noqa: E402
from tests.harness import ToteServer, cod, place_request  # noqa: E402
from tote.v1 import orders_pb2, orders_pb2_grpc  # noqa: E402

# The watchers' process: open every stream, wait until each has begun (the server sent its
# headers with the first event), then stop, never to read again.
WATCHERS = """
import os, signal, sys, grpc
from tote.v1 import orders_pb2, orders_pb2_grpc
address, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
channels = [grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range((n + 49) // 50)]
calls = [orders_pb2_grpc.OrderServiceStub(channels[i // 50]).WatchOrders(
    orders_pb2.WatchOrdersRequest(after_event_id="0"),
    metadata=(("authorization", "Bearer " + token),)) for i in range(n)]
for call in calls:
    call.initial_metadata()
print("open", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """The server's RSS every 100 ms: the peak since the last reset."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0.0, threading.Event()
        self.start()

    def run(self) -> None:
        while not self.stopped.wait(0.1) and Path(f"/proc/{self.pid}").exists():
            self.peak = max(self.peak, rss_mb(self.pid))


class Probe(threading.Thread):
    """GetOrder of one order, back to back: the latency an ordinary caller sees."""

    def __init__(self, server: ToteServer, token: str, order_id: str) -> None:
        super().__init__(daemon=True)
        self.client = server.client(token)
        self.order_id, self.latencies, self.errors = order_id, [], 0
        self.stopped = threading.Event()
        self.start()

    def run(self) -> None:
        while not self.stopped.is_set():
            t0 = time.perf_counter()
            try:
                self.client.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=self.order_id),
                                            metadata=self.client.metadata, timeout=10)
            except Exception:
                self.errors += 1
            self.latencies.append(time.perf_counter() - t0)


async def place(address: str, metadata, sku: str, n: int, concurrency: int = 16) -> list[str]:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    todo = iter(range(n))
    async with aio.insecure_channel(address) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)

        async def worker() -> None:
            for _ in todo:
                order = await stub.PlaceOrder(place_request([(sku, 1)], cod()),
                                              metadata=metadata)
                ids.append(order.order_id)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


def settled(db_path: str) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM orders WHERE status IN "
                            "('PROCESSING','CANCELLED')").fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=2500)
    parser.add_argument("--history", type=int, default=200)
    parser.add_argument("--settle-s", type=float, default=30.0)
    parser.add_argument("--server-root", help="the checkout whose server to run")
    args = parser.parse_args()
    env = {"TOTE_MAX_STREAMS_PER_TOKEN": str(args.streams + 10)}
    if args.server_root:
        root = Path(args.server_root).resolve()
        env["PYTHONPATH"] = f"{root}{os.pathsep}{root / 'protos'}"
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "tote.db")
        # The schema and the tokens are the server's own checkout's (its migrations may stop
        # before this one's).
        cli_env = {**os.environ, **env}

        def tote_cli(*argv: str) -> str:
            return subprocess.run([sys.executable, "-m", "server", *argv, "--db", db],
                                  env=cli_env, cwd=tmp, capture_output=True, text=True,
                                  check=True).stdout.strip()

        if args.server_root:
            tote_cli("db", "upgrade")
        else:
            migrate.upgrade(db)
        tote = ToteServer(db, Path(tmp), env=env,
                          args=["--log-level", "WARNING", "--cod-limit-minor", "100000000"])
        tote.start()
        watchers = None
        try:
            assert tote.proc is not None
            pid = tote.proc.pid
            admin = tote.client(tote_cli("token", "create", "--role", "admin", "--name", "bench"))
            admin.fc("FC-BENCH")
            admin.product("BENCH-SKU", price_minor=10_000, weight_grams=100)
            admin.receive("FC-BENCH", "BENCH-SKU", 1_000_000)
            token = tote_cli("token", "create", "--role", "storefront", "--name", "bench")
            metadata = (("authorization", f"Bearer {token}"),)
            history = asyncio.run(place(tote.grpc_address, metadata, "BENCH-SKU",
                                        max(1, args.history)))
            while settled(db) < len(history):
                time.sleep(0.1)
            start = rss_mb(pid)
            sampler = Sampler(pid)
            probe = Probe(tote, token, history[0])
            t0 = time.monotonic()
            if args.streams:
                watchers = subprocess.Popen(
                    [sys.executable, "-c", WATCHERS, tote.grpc_address, token,
                     str(args.streams)], stdout=subprocess.PIPE, text=True,
                    env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'protos'}"})
                assert watchers.stdout is not None and watchers.stdout.readline() == "open\n"
                os.waitid(os.P_PID, watchers.pid, os.WSTOPPED)
            opened = rss_mb(pid)
            open_s = time.monotonic() - t0
            probe.latencies.clear()
            t0 = time.monotonic()
            burst = asyncio.run(place(tote.grpc_address, metadata, "BENCH-SKU", args.orders))
            while settled(db) < len(history) + len(burst):
                time.sleep(0.1)
            burst_s = time.monotonic() - t0
            probe.stopped.set()
            probe.join()
            peak = sampler.peak
            if watchers is not None:
                watchers.send_signal(signal.SIGKILL)
                watchers.wait()
                watchers = None
            time.sleep(args.settle_s)
            after = rss_mb(pid)
            sampler.stopped.set()
            lat = sorted(probe.latencies)
        finally:
            if watchers is not None:
                watchers.kill()
                watchers.wait()
            if tote.proc is not None and tote.proc.poll() is not None:
                print(f"tote serve exited {tote.proc.returncode}; its log ends:\n"
                      + tote.log_path.read_text()[-3000:], file=sys.stderr)
            tote.terminate(60)
        errors = [line for line in tote.log_path.read_text().splitlines() if " ERROR " in line]
        print(f"{args.streams} non-reading WatchOrders streams from event 0 "
              f"({len(history)} orders of history; opened in {open_s:.1f} s), then a burst "
              f"of {len(burst)} orders (placed and through their sagas in {burst_s:.1f} s)")
        print(f"server RSS MB: start {start:.0f}, streams open {opened:.0f}, peak {peak:.0f} "
              f"(+{peak - start:.0f}), {args.settle_s:.0f} s after the streams closed "
              f"{after:.0f} (+{after - start:.0f})")
        print(f"GetOrder during the burst: {len(lat)} calls, p50 "
              f"{1000 * statistics.median(lat):.1f} ms, p99 "
              f"{1000 * lat[int(0.99 * (len(lat) - 1))]:.1f} ms, max {1000 * lat[-1]:.1f} ms, "
              f"{probe.errors} failed")
        print(f"server log: {len(errors)} ERROR lines" + (f"; first: {errors[0]}" if errors
                                                            else ""))


if __name__ == "__main__":
    main()
