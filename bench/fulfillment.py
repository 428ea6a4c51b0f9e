"""Fulfillment speed: ScanItem at human rate and saturated, whole orders to DELIVERED.

    .venv/bin/python bench/fulfillment.py [--seconds 20] [--terminals 200] [--scanners 32]

1. a bare grpc.aio echo server's unary QPS at the scanners' concurrency (bench/saga.py's
   ceiling, measured in this run);
2. ScanItem, open loop: `--terminals` handhelds each scan one unit every 2 s on a fixed
   schedule that never waits for replies; latency counts from the scheduled moment, so a
   slow reply cannot hide the ones queued behind it (target p99 ≤ 25 ms);
3. ScanItem saturated: `--scanners` concurrent callers as fast as they can (target ≥ 0.25 ×
   the echo QPS);
4. the whole life of an order: placed (card), picked, packed, handed off, advanced by the
   sandbox carrier to delivered (its webhooks tell tote) — orders/s to DELIVERED.
tote serve runs on a fresh SQLite file with the sandbox in its own process, as in
bench/saga.py. Prints figures, targets and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
from grpc import aio  # noqa: E402

from bench.saga import _children, _drive, cpu_s, echo_qps  # noqa: E402
from core.domain.gtin import gs1_check_digit  # noqa: E402
from core.persistence.db import Database  # noqa: E402
from core.service.tokens import create_token  # noqa: E402
from tests.harness import (  # noqa: E402
    Client,
    SandboxProcess,
    ToteServer,
    card,
    free_port,
    place_request,
    sandbox_card,
)
from tote.v1 import (  # noqa: E402
    fulfillment_pb2,
    fulfillment_pb2_grpc,
    orders_pb2_grpc,
)

SCAN_FC, LIFE_FC = "FC-SCAN", "FC-LIFE"
LINES_PER_ORDER = 20  # = the default pick batch_lines: each scan order is exactly one task
PERIOD_S = 2.0  # a person scans one unit every 2 s
LIFE_SKU, LIFE_UNITS, LIFE_WEIGHT = "BENCH-LIFE", 2, 200


def _gtin(i: int) -> str:
    body = f"4{i:011d}"
    return body + str(gs1_check_digit(body))


def _ms(seconds: float) -> float:
    return 1000 * seconds


def _pct(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _status_count(db_path: str, statuses: tuple[str, ...]) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(statuses))
        return conn.execute(f"SELECT count(*) FROM orders WHERE status IN ({marks})",
                            statuses).fetchone()[0]
    finally:
        conn.close()


@dataclass
class Bench:
    """tote serve, the sandbox, and the tokens of the people who work in it."""

    server: ToteServer
    sandbox_url: str
    db_path: str
    tokens: dict[str, str] = field(default_factory=dict)

    def meta(self, who: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.tokens[who]}"),)


@contextmanager
def serving(workdir: Path) -> Iterator[Bench]:
    """tote serve on a fresh SQLite file, the gateway+carrier sandbox in its own process."""
    db_path = str(workdir / "fulfillment.db")
    webhook_port = free_port()
    sandbox = SandboxProcess(workdir, f"http://127.0.0.1:{webhook_port}/webhooks/gateway")
    sandbox.start()
    server = ToteServer(db_path, workdir, sandbox=False, webhook_port=webhook_port,
                        args=["--gateway-url", sandbox.url, "--carrier-url", sandbox.url,
                              "--log-level", "WARNING"])
    try:
        server.start()
        yield Bench(server, sandbox.url, db_path)
    finally:
        if server.proc is not None:
            server.terminate()
        sandbox.stop()


def make_tokens(bench: Bench, wanted: list[tuple[str, str, str]]) -> None:
    """Tokens (role, name, fc) straight into the database (one connection, not one each)."""
    db = Database(bench.db_path)
    try:
        for role, name, fc in wanted:
            bench.tokens[name] = db.run_write(lambda s, r=role, n=name, f=fc:
                                              create_token(s, r, n, f))[1]
    finally:
        db.dispose()


# -- preparing pick tasks --------------------------------------------------------------------------

@dataclass
class Terminal:
    """One picker's handheld: its task and the barcodes it will scan, in walk order."""

    who: str
    task_id: str
    barcodes: list[str]
    next: int = 0

    def take(self) -> str | None:
        if self.next >= len(self.barcodes):
            return None
        self.next += 1
        return self.barcodes[self.next - 1]


async def place_all(bench: Bench, requests: list, concurrency: int) -> list[str]:  # type: ignore[type-arg]
    """PlaceOrder each request from `concurrency` callers; the order ids."""
    todo, ids = iter(requests), []
    async with aio.insecure_channel(bench.server.grpc_address) as channel:
        stub = orders_pb2_grpc.OrderServiceStub(channel)

        async def worker() -> None:
            for request in todo:
                ids.append((await stub.PlaceOrder(request, metadata=bench.meta("bench"))
                            ).order_id)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


async def prepare_terminals(bench: Bench, terminals: int, units: int, token: str
                            ) -> list[Terminal]:
    """One order of 20 lines × `units` per terminal, through PROCESSING, one task each."""
    lines = [(f"BENCH-{j:02d}", units) for j in range(LINES_PER_ORDER)]
    requests = [place_request(lines, card(token)) for _ in range(terminals)]
    t0 = time.perf_counter()
    await place_all(bench, requests, 16)
    while (ready := _status_count(bench.db_path, ("PROCESSING", "CANCELLED"))) < terminals:
        print(f"  … {ready}/{terminals} scan orders through the saga", end="\r", flush=True)
        await asyncio.sleep(0.5)
    cancelled = _status_count(bench.db_path, ("CANCELLED",))
    print(f"  {terminals} orders of {LINES_PER_ORDER}×{units} units placed and PROCESSING in "
          f"{time.perf_counter() - t0:.1f} s ({cancelled} cancelled)", flush=True)
    out = []
    async with aio.insecure_channel(bench.server.grpc_address) as channel:
        stub = fulfillment_pb2_grpc.FulfillmentServiceStub(channel)
        for i in range(terminals):
            who = f"scanner-{i:03d}"
            task = await stub.NextPickTask(fulfillment_pb2.NextPickTaskRequest(fc_id=SCAN_FC),
                                           metadata=bench.meta(who))
            out.append(Terminal(who, task.task_id, [
                ln.gtin for ln in task.lines for _ in range(ln.quantity - ln.picked)]))
    return out


def _scan(stub, bench: Bench, terminal: Terminal, barcode: str):  # type: ignore[no-untyped-def]
    return stub.ScanItem(fulfillment_pb2.ScanItemRequest(
        task_id=terminal.task_id, barcode=barcode, scan_id=uuid.uuid4().hex),
        metadata=bench.meta(terminal.who))


# -- 2. ScanItem open loop -------------------------------------------------------------------------

async def open_loop(bench: Bench, terminals: list[Terminal], seconds: float) -> dict[str, float]:
    """Each terminal scans every PERIOD_S on a fixed schedule, whatever the replies do."""
    n = len(terminals)
    rounds = max(1, int(seconds / PERIOD_S))
    start = time.perf_counter() + 0.5
    # Terminals are spread evenly over the period, as people out of step with each other are.
    schedule = sorted((start + k * PERIOD_S + i * PERIOD_S / n, i)
                      for k in range(rounds) for i in range(n))
    latencies: list[float] = []
    errors: list[str] = []
    async with aio.insecure_channel(bench.server.grpc_address) as channel:
        stub = fulfillment_pb2_grpc.FulfillmentServiceStub(channel)

        async def one(at: float, terminal: Terminal, barcode: str) -> None:
            try:
                await _scan(stub, bench, terminal, barcode)
                latencies.append(time.perf_counter() - at)
            except grpc.RpcError as exc:
                errors.append(f"{exc.code().name}: {exc.details()}")

        inflight: set[asyncio.Task[None]] = set()
        next_report = start + 5
        for at, i in schedule:
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            barcode = terminals[i].take()
            if barcode is None:
                continue
            task = asyncio.create_task(one(at, terminals[i], barcode))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
            if at >= next_report:
                done = sorted(latencies)
                print(f"  … {at - start:4.0f} s: {len(done)} scans, p99 so far "
                      f"{_ms(_pct(done, 0.99)) if done else 0:.1f} ms", flush=True)
                next_report += 5
        await asyncio.gather(*inflight)
    latencies.sort()
    if errors:
        print(f"  {len(errors)} scans refused, e.g. {errors[0]}")
    return {"scans": len(latencies), "errors": len(errors), "seconds": rounds * PERIOD_S,
            "p50_ms": _ms(statistics.median(latencies)), "p99_ms": _ms(_pct(latencies, 0.99)),
            "max_ms": _ms(latencies[-1])}


# -- 3. ScanItem saturated -------------------------------------------------------------------------

async def saturated(bench: Bench, terminals: list[Terminal], concurrency: int, seconds: float
                    ) -> dict[str, float]:
    """`concurrency` callers scan as fast as they can, round-robin over the open tasks."""
    # Consecutive scans go to different tasks, so no two callers work one task at once (a
    # handheld scans its own task one unit at a time).
    todo = ((t, b) for _ in range(max(len(t.barcodes) for t in terminals))
            for t in terminals if (b := t.take()) is not None)
    async with aio.insecure_channel(bench.server.grpc_address) as channel:
        stub = fulfillment_pb2_grpc.FulfillmentServiceStub(channel)

        def call():  # type: ignore[no-untyped-def]
            terminal, barcode = next(todo)  # StopIteration: not enough prepared (see units)
            return _scan(stub, bench, terminal, barcode)

        await _drive(call, concurrency, min(1.0, seconds / 5))  # warm up
        assert bench.server.proc is not None
        cpu0, t0 = cpu_s(bench.server.proc.pid), time.perf_counter()
        n, latencies = await _drive(call, concurrency, seconds)
        elapsed = time.perf_counter() - t0
        cpu = cpu_s(bench.server.proc.pid) - cpu0
    latencies.sort()
    return {"scans": n, "per_s": n / elapsed, "cpu_ms": 1000 * cpu / n,
            "p50_ms": _ms(statistics.median(latencies)),
            "p99_ms": _ms(_pct(latencies, 0.99)),
            "left": sum(len(t.barcodes) - t.next for t in terminals)}


# -- the run ---------------------------------------------------------------------------------------

def seed(bench: Bench, units_needed: int) -> None:
    admin = Client(bench.server.grpc_address, bench.tokens["bench"])
    try:
        admin.fc(SCAN_FC)
        admin.fc(LIFE_FC, lat=13.0, lon=77.6)
        for j in range(LINES_PER_ORDER):
            admin.product(f"BENCH-{j:02d}", price_minor=100, weight_grams=100, gtin=_gtin(j))
            admin.receive(SCAN_FC, f"BENCH-{j:02d}", units_needed)
        admin.product(LIFE_SKU, price_minor=49_900, weight_grams=LIFE_WEIGHT,
                      gtin=_gtin(LINES_PER_ORDER))
        admin.receive(LIFE_FC, LIFE_SKU, 1_000_000)
    finally:
        admin.close()


def profile(bench: Bench, out: str, seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy record of tote serve for `seconds` into `out`, and of its SQLite writer process
    into `out`.writer (from the venv; GIL-holding samples only)."""
    assert bench.server.proc is not None
    spy = Path(sys.executable).with_name("py-spy")
    targets = [(bench.server.proc.pid, out),
               *((pid, f"{out}.writer") for pid in _children(bench.server.proc.pid))]
    return [subprocess.Popen([str(spy), "record", "-p", str(pid), "-d",
                              str(max(1, int(seconds))), "-r", "200", "-f", "raw", "--gil",
                              "--nonblocking", "-o", path], stdout=subprocess.DEVNULL)
            for pid, path in targets]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="open-loop length; saturated and echo take half, the lifecycle's "
                             "placing the same")
    parser.add_argument("--terminals", type=int, default=200)
    parser.add_argument("--scanners", type=int, default=32)
    parser.add_argument("--profile", metavar="FILE",
                        help="py-spy tote serve during the saturated phase (raw folded stacks)")
    args = parser.parse_args()
    sat_s = args.seconds / 2
    # Units per line: the open loop's scans plus a generous 3000 scans/s saturated, in
    # 20-line orders, one per terminal.
    needed = args.terminals * (args.seconds / PERIOD_S + 2) + 3000 * (sat_s + 2)
    units = max(3, math.ceil(needed / (args.terminals * LINES_PER_ORDER)))
    print(f"tote fulfillment bench — {os.cpu_count()} cores\n", flush=True)
    echo = echo_qps(args.scanners, min(5.0, sat_s))
    print(f"echo grpc.aio unary, concurrency {args.scanners}: {echo:.0f} calls/s", flush=True)
    with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp)) as bench:
        make_tokens(bench, [("admin", "bench", "")])
        seed(bench, units * args.terminals + 10)
        make_tokens(bench, [("supervisor", "dock", ""), ("carrier", "sandbox", ""),
                            *(("picker", f"scanner-{i:03d}", SCAN_FC)
                              for i in range(args.terminals)),
                            *(("picker", f"life-{i}", LIFE_FC) for i in range(8))])
        token = sandbox_card(bench.sandbox_url)
        print("\npreparing pick tasks:", flush=True)
        terminals = asyncio.run(prepare_terminals(bench, args.terminals, units, token))
        print(f"\nScanItem open loop: {args.terminals} terminals × 1 scan / {PERIOD_S:g} s, "
              f"{args.seconds:g} s", flush=True)
        loop = asyncio.run(open_loop(bench, terminals, args.seconds))
        print(f"\nScanItem saturated: {args.scanners} callers, {sat_s:g} s", flush=True)
        spies = profile(bench, args.profile, sat_s) if args.profile else []
        sat = asyncio.run(saturated(bench, terminals, args.scanners, sat_s))
        for spy in spies:
            spy.wait()
        if spies:
            print(f"  py-spy: tote serve's stacks during the saturated phase in {args.profile}"
                  f" (its SQLite writer's in {args.profile}.writer)")
        print(f"\nlifecycle: placing card orders for {args.seconds:g} s, then draining",
              flush=True)
        from bench.lifecycle import lifecycle  # (imports this module: not at the top)

        life = asyncio.run(lifecycle(bench, token, args.seconds))
    print("\n" + "-" * 92)
    print(f"{'figure':<46} {'value':>14} {'target':>14} {'ratio':>10}")
    rows = [
        (f"echo grpc.aio unary, conc {args.scanners} (calls/s)", f"{echo:.0f}", "~2–4 k", ""),
        (f"ScanItem open loop p50 (ms, {loop['scans']:.0f} scans)", f"{loop['p50_ms']:.1f}",
         "", ""),
        ("ScanItem open loop p99 (ms)", f"{loop['p99_ms']:.1f}", "≤ 25",
         f"{loop['p99_ms'] / 25:.2f} × tgt"),
        ("ScanItem open loop max (ms)", f"{loop['max_ms']:.1f}", "(100 feels slow)", ""),
        (f"ScanItem saturated, conc {args.scanners} (scans/s)", f"{sat['per_s']:.0f}",
         f"≥ {0.25 * echo:.0f}", f"{sat['per_s'] / echo:.3f} × echo"),
        ("ScanItem saturated p50 / p99 (ms)", f"{sat['p50_ms']:.1f} / {sat['p99_ms']:.1f}",
         "", ""),
        ("ScanItem saturated: tote serve CPU per scan (ms)", f"{sat['cpu_ms']:.2f}", "", ""),
        (f"orders placed → DELIVERED (orders/s, {life['delivered']:.0f}/{life['placed']:.0f})",
         f"{life['per_s']:.1f}", "", f"{life['per_s'] / echo:.4f} × echo"),
        ("placed → DELIVERED p50 / p99 (s)", f"{life['p50_s']:.2f} / {life['p99_s']:.2f}",
         "", ""),
    ]
    for name, value, target, ratio in rows:
        print(f"{name:<46} {value:>14} {target:>14} {ratio:>10}")
    print("open loop: latency from each scan's scheduled moment to its reply (client lateness "
          "included);\nlifecycle: from the first placement until the last placed order was "
          f"DELIVERED; {loop['errors']:.0f} open-loop scans refused; "
          f"{sat['left']:.0f} prepared scans left unused.")


if __name__ == "__main__":
    main()
