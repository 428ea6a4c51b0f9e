"""What `--metrics-listen` costs per call: a GetOrder loop on two real servers, with and without.

    .venv/bin/python bench/metrics_overhead.py [--calls 2000] [--rounds 6] [--db sqlite|URL]

Two `tote serve --sandbox` (each on a SQLite file of its own, or each on a fresh PostgreSQL
database made from URL), one with `--metrics-listen 127.0.0.1:0` and one without, take rounds
of GetOrder calls in turn (alternating which goes first), so both see the same stretch of a
shared machine. Per call: the client's wall time and the server process's CPU (utime+stime
from /proc). Prints medians over rounds; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.persistence import migrate  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
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
