"""Round trip of a small HTTP answer on one keep-alive connection, served by serve_asgi.

    .venv/bin/python bench/small_responses.py [--calls 200]

The speed side of tests/integration/sandbox/test_upi_and_carrier.py's Nagle test: with
TCP_NODELAY missing on accepted connections each small response waits ~44 ms for the delayed
ACK; with it, a GET /healthz round trip on loopback is well under a millisecond. Prints the
figures for serve_asgi's socket and, as the baseline, for a listening socket made with proto 0
(asyncio then leaves Nagle on). Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from server import http_serve  # noqa: E402


async def _ok(request: object) -> JSONResponse:
    return JSONResponse({"ok": True})


async def measure(calls: int) -> list[float]:
    """Milliseconds per GET, one at a time, on one connection."""
    app = Starlette(routes=[Route("/healthz", _ok)])
    server = await http_serve.serve_asgi(app, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.get("/healthz")  # open the connection
            out = []
            for _ in range(calls):
                t0 = time.perf_counter()
                (await client.get("/healthz")).raise_for_status()
                out.append((time.perf_counter() - t0) * 1000)
            return out
    finally:
        await server.stop()


def _nagle_bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    rows = [("serve_asgi (TCP_NODELAY)", asyncio.run(measure(args.calls)))]
    real_bind = http_serve._bind
    http_serve._bind = _nagle_bind  # the baseline: the same server with Nagle left on
    try:
        rows.append(("proto 0 socket (Nagle on)", asyncio.run(measure(args.calls))))
    finally:
        http_serve._bind = real_bind
    print(f"{'':28} {'p50 ms':>8} {'p99 ms':>8} {'total s':>8}")
    for label, ms in rows:
        p99 = statistics.quantiles(ms, n=100)[98]
        print(f"{label:28} {statistics.median(ms):8.2f} {p99:8.2f} {sum(ms) / 1000:8.2f}")


if __name__ == "__main__":
    main()
