"""The auth interceptor's cost per call: AuthInterceptor.intercept_service on a cached token.

    .venv/bin/python bench/auth_call.py [--calls 200000]

The hot path of every RPC (server/auth.py): the bearer token is read from the metadata, its
principal found in the TokenCache, the role checked (and, with a rate limit, its bucket
taken from); the handler wrapped for that caller comes from the interceptor's own cache.
A SQLite file with one storefront token; µs per call on one loop, no gRPC transport.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402

from core.persistence import migrate  # noqa: E402
from core.persistence.db import Database  # noqa: E402
from core.service.tokens import create_token  # noqa: E402
from server import auth  # noqa: E402
from server.dbexec import DbExecutor  # noqa: E402


class _Details:
    def __init__(self, method: str, token: str) -> None:
        self.method = method
        self.invocation_metadata = (("authorization", f"Bearer {token}"),
                                    ("user-agent", "bench"))


async def measure(calls: int, rate: str | None) -> list[float]:
    folder = tempfile.mkdtemp()
    db = Database(str(Path(folder) / "tote.db"))
    migrate.upgrade(db.url)
    _, token = db.run_write(lambda s: create_token(s, "storefront", "shop", None))
    dbx = DbExecutor(db, writer="thread")
    kw = {}
    if rate is not None:
        kw["rate_limit"] = tuple(float(x) for x in rate.split(":"))
    cache = auth.TokenCache(dbx, **kw)
    if hasattr(cache, "start"):
        await cache.start()
    interceptor = auth.AuthInterceptor(cache)

    async def ok(request, context):  # type: ignore[no-untyped-def]
        return None

    handler = grpc.unary_unary_rpc_method_handler(ok)

    async def continuation(details):  # type: ignore[no-untyped-def]
        return handler

    details = _Details("/tote.v1.OrderService/GetOrder", token)
    await interceptor.intercept_service(continuation, details)  # fill the caches
    rounds = []
    per = max(1, calls // 20)
    for _ in range(20):
        t0 = time.perf_counter()
        for _ in range(per):
            await interceptor.intercept_service(continuation, details)
        rounds.append((time.perf_counter() - t0) / per * 1e6)
    if hasattr(cache, "stop"):
        await cache.stop()
    await asyncio.to_thread(dbx.shutdown)
    db.dispose()
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rate-limit", default=None,
                        help="RPS:BURST for every token (a build with throttling only)")
    args = parser.parse_args()
    us = asyncio.run(measure(args.calls, args.rate_limit))
    print(f"intercept_service, cached token: median {statistics.median(us):.2f} µs/call, "
          f"best round {min(us):.2f}, worst {max(us):.2f} ({args.calls} calls)")


if __name__ == "__main__":
    main()
