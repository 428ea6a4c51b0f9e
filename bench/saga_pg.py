"""bench/saga.py on PostgreSQL: tote serve replicas on one fresh database, beside DBOS.

    .venv/bin/python bench/saga.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --replicas 1,2 [--seconds 5] [--concurrency 8,32] [--rounds 2]

For each round, for each replica count: a fresh database on the given server (`tote db
upgrade`, dropped at the end), one sandbox in its own process at zero latency, N `tote serve`
replicas on that database; the load (card PlaceOrder calls) goes round robin over one gRPC
channel per replica. Then, in the same round, the peer /work/shared/peers/dbos_saga.py (DBOS
Transact, the same saga) on its own fresh database on the same server. Rounds interleave the
configurations, so every figure has its neighbours in time.

Per replica count and concurrency level it prints PlaceOrder accepted/s with p50/p99, sagas to
PROCESSING (or CANCELLED) per second sustained, and per order: tote's CPU (every replica and
its children, /proc/PID/stat), PostgreSQL's backend CPU (every backend pg_stat_activity lists
for the bench's database, autovacuum workers included), and commits (pg_stat_database
.xact_commit of the bench's database). It checks that no piece of work was done twice:
authorizations per order in the sandbox's ledger, and each order's saga events (a saga step
run twice would record its event twice).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from grpc import aio

from bench.pg_monitor import CpuWindow, Pg, PgServer, _libpq, _machine
from bench.saga import _drive
from tests.harness import (
    SandboxProcess,
    ToteServer,
    card,
    free_port,
    place_request,
    sandbox_card,
)

# A PostgreSQL 15 backend flushes its pending statistics (xact_commit among them) at most once
# a second, and an idle one within PGSTAT_IDLE_INTERVAL (10 s): read pg_stat_database only after
# that long a pause, or the last second's commits are missing.
STATS_SETTLE_S = 11.0
PEERS = Path(os.environ.get("TOTE_BENCH_PEERS", "/work/shared/peers"))
PEERS_PYTHON = os.environ.get("TOTE_BENCH_PEERS_PYTHON", "/tmp/peers/bin/python")
# A folder: every replica runs under cProfile and writes its figures there when it stops.
PROFILE_DIR = os.environ.get("TOTE_BENCH_PROFILE", "")
# More `tote serve` flags for every replica, e.g. TOTE_BENCH_SERVE_ARGS="--db-pool-size 4".
SERVE_ARGS = shlex.split(os.environ.get("TOTE_BENCH_SERVE_ARGS", ""))




# -- tote ---------------------------------------------------------------------------------------

def tote_config(pg: PgServer, workdir: Path, replicas: int, levels: list[int], seconds: float,
                ) -> list[dict[str, Any]]:
    """N replicas of tote serve on one fresh database; one row of figures per level."""
    url, name = pg.create("tote_bench")
    workdir.mkdir(parents=True)
    servers: list[ToteServer] = []
    sandbox: SandboxProcess | None = None
    mon: Pg | None = None
    try:
        subprocess.run([sys.executable, "-m", "server", "db", "upgrade", "--db", url],
                       check=True, capture_output=True, cwd=workdir)
        webhook_ports = [free_port() for _ in range(replicas)]
        # The gateway is an outside party, in its own process; its webhooks reach the first
        # replica (card payments at zero latency answer inline and send none that matter here).
        sandbox = SandboxProcess(workdir, f"http://127.0.0.1:{webhook_ports[0]}/webhooks/gateway")
        sandbox.start()
        for i in range(replicas):
            rdir = workdir / f"replica{i}"
            rdir.mkdir()
            env = {}
            if PROFILE_DIR:  # cProfile every replica (bench/profiled/sitecustomize.py)
                Path(PROFILE_DIR).mkdir(parents=True, exist_ok=True)
                env = {"PYTHONPATH": str(Path(__file__).parent / "profiled"),
                       "TOTE_BENCH_PROFILE": str(Path(PROFILE_DIR) / f"{workdir.name}-{i}.prof")}
            servers.append(ToteServer(url, rdir, sandbox=False, webhook_port=webhook_ports[i],
                                      env=env,
                                      args=["--gateway-url", sandbox.url, "--carrier-url",
                                            sandbox.url, "--log-level", "WARNING",
                                            *SERVE_ARGS]).start())
        admin = servers[0].client(servers[0].token("admin", "bench"))
        try:
            admin.fc("FC-BENCH")
            admin.product("BENCH-SKU", price_minor=10_000, weight_grams=100)
            admin.receive("FC-BENCH", "BENCH-SKU", 1_000_000)
            metadata = admin.metadata
        finally:
            admin.close()
        token = sandbox_card(sandbox.url)
        mon = Pg(url, name)
        idle = _idle_rates(mon, servers)
        rows = []
        for c in levels:
            row = asyncio.run(_level(servers, mon, metadata, token, c, seconds))
            rows.append({"replicas": replicas, **idle, **row})
        _check_once(mon, sandbox.url, rows)
        return rows
    finally:
        if mon is not None:
            mon.close()
        for s in servers:
            try:
                s.terminate()
            except Exception as exc:  # the figures are taken; say so and carry on
                print(f"  (replica did not stop cleanly: {exc})", flush=True)
        if sandbox is not None:
            sandbox.stop()
        pg.drop(name)


def _windows(mon: Pg, servers: list[ToteServer]) -> tuple[CpuWindow, CpuWindow, CpuWindow]:
    """CPU of (every replica, the bench database's backends, the server's shared processes)."""
    return (CpuWindow(lambda: {s.proc.pid: "tote" for s in servers if s.proc}, children=True),
            CpuWindow(mon.backends),
            CpuWindow(lambda: dict.fromkeys(mon.cluster_background(), "bg")))


def _idle_rates(mon: Pg, servers: list[ToteServer]) -> dict[str, float]:
    """What the replicas cost with no orders coming (their workers' scans): commits/s, and
    CPU s/s of the replicas and of the database's backends."""
    time.sleep(STATS_SETTLE_S)
    c0, own0 = mon.commits(), mon.own_commits
    tote, pgb, _bg = _windows(mon, servers)
    tote.start()
    pgb.start()
    time.sleep(2 * STATS_SETTLE_S)
    return {"idle_tote_cpu": tote.stop() / (2 * STATS_SETTLE_S),
            "idle_pg_cpu": pgb.stop() / (2 * STATS_SETTLE_S),
            "idle_commits_per_s": (mon.commits() - c0 - (mon.own_commits - own0))
            / (2 * STATS_SETTLE_S)}


async def _level(servers: list[ToteServer], mon: Pg, metadata: Any, token: str,
                 concurrency: int, seconds: float) -> dict[str, Any]:
    from tote.v1 import orders_pb2_grpc

    channels = [aio.insecure_channel(s.grpc_address) for s in servers]
    try:
        stubs = [orders_pb2_grpc.OrderServiceStub(ch) for ch in channels]
        turn = itertools.cycle(range(len(stubs)))  # round robin: call i to replica i mod N

        def call() -> Any:
            return stubs[next(turn)].PlaceOrder(
                place_request([("BENCH-SKU", 1)], card(token)), metadata=metadata)

        await _drive(call, concurrency, 0.5)  # warm up every channel and replica
        while mon.finished() < mon.placed():
            await asyncio.sleep(0.05)
        await asyncio.sleep(STATS_SETTLE_S)
        before_done, before_placed = mon.finished(), mon.placed()
        commits0, own0 = mon.commits(), mon.own_commits
        tote_cpu, pg_cpu, bg_cpu = _windows(mon, servers)
        for w in (tote_cpu, pg_cpu, bg_cpu):
            w.start()
        busy0, t0 = _machine(), time.perf_counter()
        n, lat = await _drive(call, concurrency, seconds)
        placing = time.perf_counter() - t0
        target = before_placed + n
        while (done := mon.finished()) < target:
            await asyncio.sleep(0.02)
        total = time.perf_counter() - t0
        cpu_tote, cpu_pg, cpu_bg = tote_cpu.stop(), pg_cpu.stop(), bg_cpu.stop()
        busy1 = _machine()
        await asyncio.sleep(STATS_SETTLE_S)
        commits = mon.commits() - commits0 - (mon.own_commits - own0)
        lat.sort()
        return {"concurrency": concurrency, "orders": n, "placed_per_s": n / placing,
                "p50_ms": 1000 * statistics.median(lat),
                "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))],
                "sagas_per_s": (done - before_done) / total, "span_s": total,
                "tote_cpu_ms": 1000 * cpu_tote / n, "pg_cpu_ms": 1000 * cpu_pg / n,
                "pg_bg_cpu_ms": 1000 * cpu_bg / n, "pg_backends_lost": pg_cpu.lost,
                "commits_gross": commits / n, "settle_s": total + STATS_SETTLE_S,
                "machine_busy_pct": 100 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])}
    finally:
        for ch in channels:
            await ch.close()


def _check_once(mon: Pg, sandbox_url: str, rows: list[dict[str, Any]]) -> None:
    """No piece of work done twice: authorizations per order in the sandbox's ledger, and each
    saga event at most once per order. Adds the figures to every row of this configuration."""
    entries = httpx.get(f"{sandbox_url}/v1/ledger", timeout=60).json()["entries"]
    auths = Counter(e["reference"] for e in entries if e["kind"] == "authorization")
    orders = [oid for (oid,) in mon.all("SELECT order_id FROM orders")]
    statuses = dict(mon.all("SELECT status, count(*) FROM orders GROUP BY status"))
    twice = mon.one("SELECT count(*) FROM (SELECT order_id, type FROM order_events "
                    "GROUP BY order_id, type HAVING count(*) > 1) d")
    events = mon.one("SELECT count(*) FROM order_events")
    check = {"orders_total": len(orders), "statuses": statuses,
             "auths_per_order": sum(auths.values()) / max(1, len(orders)),
             "orders_authorized_twice": sum(1 for v in auths.values() if v > 1),
             "orders_not_authorized": sum(1 for o in orders if auths.get(o, 0) == 0),
             "events_per_order": events / max(1, len(orders)),
             "events_twice": int(twice)}
    for r in rows:
        r.update(check)


# -- DBOS ---------------------------------------------------------------------------------------

def dbos_run(pg: PgServer, concurrency: int, workflows: int) -> dict[str, Any]:
    """The peer's DBOS saga on a fresh database of the same server; its JSON line, plus the
    CPU of the database's backends over its whole run (launch included)."""
    url, name = pg.create("dbos_bench")
    try:
        cmd = [PEERS_PYTHON, str(PEERS / "dbos_saga.py"), "--dsn", _libpq(url),
               "-w", str(workflows), "-c", str(concurrency), "--warmup", "20"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800)
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        pg.drop(name)


# -- the run --------------------------------------------------------------------------------------

def run(url: str, replica_counts: list[int], levels: list[int], seconds: float, rounds: int,
        dbos_concurrency: int, dbos_workflows: int) -> None:
    pg = PgServer(url)
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        sync = conn.execute("SHOW synchronous_commit").fetchone()
    print(f"tote bench on PostgreSQL {version[0] if version else '?'} "
          f"(synchronous_commit={sync[0] if sync else '?'}) — {os.cpu_count()} cores, "
          f"{seconds:g} s per figure, {rounds} rounds\n", flush=True)
    tote: list[dict[str, Any]] = []
    dbos: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(1, rounds + 1):
            for n in replica_counts:
                rows = tote_config(pg, Path(tmp) / f"r{rnd}-{n}", n, levels, seconds)
                for r in rows:
                    r["round"] = rnd
                    _print_row(r)
                tote += rows
            if dbos_workflows <= 0:
                continue
            d = dbos_run(pg, dbos_concurrency, dbos_workflows)
            d["round"] = rnd
            dbos.append(d)
            print(f"  round {rnd} DBOS {d['dbos']}, C={d['concurrency']}: "
                  f"{d['workflows_per_s']} workflows/s, p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms,"
                  f" {d.get('pg_commits_per_workflow')} commits/workflow,"
                  f" its process {_dbos_cpu_ms(d):.1f} ms CPU/workflow,"
                  f" machine {d.get('machine_busy_pct')}% busy, verified={d['verified']}",
                  flush=True)
    _summary(tote, dbos, replica_counts, levels)


def _print_row(r: dict[str, Any]) -> None:
    print(f"  round {r['round']} replicas {r['replicas']} conc {r['concurrency']:>3}: "
          f"PlaceOrder {r['placed_per_s']:.0f}/s p50 {r['p50_ms']:.1f} p99 {r['p99_ms']:.1f} ms; "
          f"sagas {r['sagas_per_s']:.0f}/s; per order: tote {r['tote_cpu_ms']:.2f} ms, "
          f"pg {r['pg_cpu_ms']:.2f} ms (+cluster bg {r['pg_bg_cpu_ms']:.2f}), "
          f"{_net_commits(r):.2f} commits; auths/order {r['auths_per_order']:.3f}, "
          f"events twice {r['events_twice']}; idle: tote {r['idle_tote_cpu']:.3f} cores, "
          f"pg {r['idle_pg_cpu']:.3f} cores, {r['idle_commits_per_s']:.1f} commits/s; "
          f"span {r['span_s']:.1f} s, {r['orders']} orders, machine "
          f"{r['machine_busy_pct']:.0f}% busy", flush=True)


def _net_cpu(r: dict[str, Any]) -> float:
    """tote + backends CPU ms per order, less what the idle replicas and their backends burn
    over the same span (their scans: a cost per second, not per order)."""
    idle = (r["idle_tote_cpu"] + r["idle_pg_cpu"]) * r["span_s"] / r["orders"]
    return float(r["tote_cpu_ms"] + r["pg_cpu_ms"] - 1000 * idle)


def _dbos_cpu_ms(d: dict[str, Any]) -> float:
    """The DBOS process's CPU per workflow, from the peer's own figures."""
    return float(10 * d["bench_cpu_pct"] / d["workflows_per_s"])


def _net_commits(r: dict[str, Any]) -> float:
    """Commits per order, less what the idle replicas commit over the same stretch."""
    return float(r["commits_gross"] - r["idle_commits_per_s"] * r["settle_s"] / r["orders"])


def _summary(tote: list[dict[str, Any]], dbos: list[dict[str, Any]], replica_counts: list[int],
             levels: list[int]) -> None:
    print("\ntote serve on PostgreSQL, card orders, sandbox in its own process at zero latency:")
    print(f"{'rnd':>3} {'repl':>4} {'conc':>4} {'PlaceOrder/s':>12} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'sagas/s':>8} {'÷ DBOS':>7} {'tote ms':>8} {'pg ms':>6} {'sum ms':>7} "
          f"{'net ms':>6} {'commits':>7} {'auth/ord':>8} {'2×auth':>6} {'2×event':>7} {'bg ms':>6}")
    by_round = {d["round"]: d for d in dbos}
    for r in tote:
        d = by_round.get(r["round"], {"workflows_per_s": float("nan")})
        print(f"{r['round']:>3} {r['replicas']:>4} {r['concurrency']:>4} "
              f"{r['placed_per_s']:>12.0f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
              f"{r['sagas_per_s']:>8.0f} {r['sagas_per_s'] / d['workflows_per_s']:>7.1f} "
              f"{r['tote_cpu_ms']:>8.2f} {r['pg_cpu_ms']:>6.2f} "
              f"{r['tote_cpu_ms'] + r['pg_cpu_ms']:>7.2f} {_net_cpu(r):>6.2f} "
              f"{_net_commits(r):>7.2f} "
              f"{r['auths_per_order']:>8.3f} {r['orders_authorized_twice']:>6} "
              f"{r['events_twice']:>7} {r['pg_bg_cpu_ms']:>6.2f}")
    print("\nDBOS Transact saga (peers/dbos_saga.py) on the same server, each round beside tote's:")
    for d in dbos:
        print(f"  round {d['round']}: {d['workflows_per_s']} workflows/s at C={d['concurrency']}"
              f" (p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms), "
              f"{d.get('pg_commits_per_workflow')} commits/workflow, its process "
              f"{_dbos_cpu_ms(d):.1f} ms CPU/workflow (PostgreSQL's not counted), machine "
              f"{d.get('machine_busy_pct')}% busy, verified={d['verified']}")
    if 1 in replica_counts:
        print("\ntwo-replica cost, CPU per order (tote + PostgreSQL backends) ÷ one replica's, "
              "same round and level (target ≤ 1.15):")
        for n in replica_counts:
            if n == 1:
                continue
            for rnd in sorted({r["round"] for r in tote}):
                for c in levels:
                    one = _find(tote, rnd, 1, c)
                    more = _find(tote, rnd, n, c)
                    if one and more:
                        a = one["tote_cpu_ms"] + one["pg_cpu_ms"]
                        b = more["tote_cpu_ms"] + more["pg_cpu_ms"]
                        print(f"  round {rnd} conc {c:>3}: {n} replicas {b:.2f} ms ÷ 1 replica "
                              f"{a:.2f} ms = {b / a:.2f}; net of idle scans "
                              f"{_net_cpu(more):.2f} ÷ {_net_cpu(one):.2f} = "
                              f"{_net_cpu(more) / _net_cpu(one):.2f}")
    print("\nsagas/s: orders that reached PROCESSING (or CANCELLED) from the first placement until"
          " the last one's saga\nfinished; ÷ DBOS: over the same round's DBOS workflows/s (target"
          " ≥ 10); tote ms: CPU of every replica\n(all threads, children included) per order; pg"
          " ms: CPU of every PostgreSQL backend serving the bench's\ndatabase (client backends"
          " and autovacuum workers) per order; net ms: their sum less the idle replicas' and"
          " backends'\nCPU rate (measured before the levels) over the same span; bg ms: the"
          " server's shared background\nprocesses"
          " (checkpointer, WAL writer, …), not attributable to the bench (other users share them),"
          " not in\nsum; commits: pg_stat_database.xact_commit of the bench's database per order,"
          " less the bench's own\nqueries and the idle replicas' rate over the same stretch;"
          " auth/ord: authorizations in the sandbox's\nledger per order (2×auth: orders authorized"
          " twice); 2×event: (order, event type) pairs recorded twice.")


def _find(rows: list[dict[str, Any]], rnd: int, n: int, c: int) -> dict[str, Any] | None:
    for r in rows:
        if r["round"] == rnd and r["replicas"] == n and r["concurrency"] == c:
            return r
    return None
