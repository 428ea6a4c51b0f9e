"""CPU of one gateway call from tote's side, by HTTP transport, beside a bare aiohttp client.

    .venv/bin/python bench/gateway_call.py [--calls 1500]

The sandbox runs in its own process (as a real gateway would); each line is PaymentGateway
.authorize (idempotency key, retries, JSON, the Authorization answer) on one uvloop, with one
and eight calls in flight: CPU µs per call in this process and wall µs per call. The baseline
is a bare aiohttp POST of the same body, measured in the same run.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402
import uvloop  # noqa: E402

from server.adapters.gateway import PaymentGateway  # noqa: E402
from server.adapters.http_retry import LIMITS, new_http_client  # noqa: E402
from tests.harness import SandboxProcess, free_port, sandbox_card  # noqa: E402


async def measure(call: Callable[[str], Awaitable[object]], calls: int, label: str,
                  ) -> dict[int, tuple[float, float]]:
    for i in range(100):  # warm the pool
        await call(f"warm-{label}-{i}")
    out = {}
    for conc in (1, 8):
        cpu0, t0 = time.process_time(), time.perf_counter()

        async def worker(k: int, conc: int = conc) -> None:
            for i in range(calls // conc):
                await call(f"{label}-{conc}-{k}-{i}")

        await asyncio.gather(*(worker(k) for k in range(conc)))
        n = calls // conc * conc
        out[conc] = (1e6 * (time.process_time() - cpu0) / n,
                     1e6 * (time.perf_counter() - t0) / n)
    return out


async def run(url: str, token: str, calls: int) -> list[tuple[str, dict[int, tuple[float, float]]]]:
    rows = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        async def bare(ref: str) -> object:
            async with session.post(url + "/v1/authorizations", headers={
                    "Idempotency-Key": ref}, json={"token": token, "amount_minor": 100,
                                                   "currency": "INR", "reference": ref}) as r:
                return await r.json()

        rows.append(("bare aiohttp POST (baseline)", await measure(bare, calls, "bare")))
    for label, client in (("httpx + aiohttp transport (tote)",
                           new_http_client()),
                          ("httpx + httpcore transport",
                           httpx.AsyncClient(limits=LIMITS))):
        gateway = PaymentGateway(url, client=client)

        async def authorize(ref: str, gateway: PaymentGateway = gateway) -> object:
            return await gateway.authorize(order_id=ref, token=token, amount_minor=100,
                                           currency="INR")

        rows.append((label, await measure(authorize, calls, label[:20])))
        await client.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = SandboxProcess(Path(tmp), f"http://127.0.0.1:{free_port()}/webhooks/gateway")
        sandbox.start()
        try:
            rows = uvloop.run(run(sandbox.url, sandbox_card(sandbox.url), args.calls))
        finally:
            sandbox.stop()
    base = rows[0][1]
    print(f"{'':52} {'CPU µs/call':>12} {'× bare':>7} {'wall µs/call':>13}")
    for label, figures in rows:
        for conc, (cpu, wall) in figures.items():
            print(f"{label:44} conc {conc}: {cpu:12.0f} {cpu / base[conc][0]:7.2f} {wall:13.0f}")


if __name__ == "__main__":
    main()
