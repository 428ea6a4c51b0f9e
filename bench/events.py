"""Events leaving tote through its outbox, measured (issue 16, part E).

    .venv/bin/python bench/events.py [--seconds 10] [--concurrency 32] [--only NAME]

One function per figure (FIGURES: relay, webhooks, notifications), each starting what it
needs — its own tote serve on a fresh SQLite file — and returning its figures; `main` runs them
all, or one (--only), and prints them. Asserts nothing (speed is measured here, not in tests).

relay_figures — tote serve on SQLite (the sandbox in its process, card payments, as
bench/saga.py) with --nats-url to a `nats-server -js` of its own, and a JetStream subscriber in
a process of its own reading the stream:
  full  PlaceOrder from --concurrency callers for --seconds: orders placed/s, sagas to
        PROCESSING/s, events committed/s, events relayed/s (JetStream acknowledgements, from
        tote's tote_relay_published_total), relay lag p50/p99, and how long after the last
        order the relay had published every event (it keeps up when that is about as long as
        the sagas take to finish);
  half  PlaceOrder paced at half the sagas/s of `full` (open loop) for --seconds: the same.
Relay lag is given two ways: an event's commit to JetStream's acknowledgement (tote's
tote_relay_lag_seconds histogram, quantiles interpolated within its buckets as Prometheus'
histogram_quantile does), and an event's commit to the subscriber's receipt (exact, per event).
(An event's commit is its occurred_at: the command's time, a millisecond or so before COMMIT.)

webhook_figures (bench/events_hooks.py) — storefront webhook deliveries per second to a local
receiver that verifies every signature, and the delivery latency from the event's commit.

notification_figures (bench/events_notify.py) — orders with an email worked to SHIPPED at half
the saga throughput; the "shipped" email's latency from the Order_Shipped commit to the SMTP
server's acceptance (aiosmtpd).

What the figures share (helpers, the receiver and SMTP processes): bench/events_parts.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from grpc import aio  # noqa: E402

from bench.events_hooks import print_webhooks, webhook_figures  # noqa: E402
from bench.events_notify import notification_figures, print_notifications  # noqa: E402
from bench.events_parts import drive, finished, paced, quantile, scalar  # noqa: E402
from tests.harness import ToteServer, card, place_request, sandbox_card  # noqa: E402
from tests.nats_server import NatsServer  # noqa: E402

# -- the stream's reader, in a process of its own ------------------------------------------------

def _subscriber(url: str, ready: Any, stop: Any, out: Any) -> None:  # (multiprocessing parts)
    """Read TOTE_EVENTS from now on; at `stop`, send [(event_id, occurred_at, received)]."""
    import nats
    from nats.js.api import DeliverPolicy

    async def main() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        while True:
            try:
                await js.stream_info("TOTE_EVENTS")
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.05)
        seen: list[tuple[int, float, float]] = []

        async def got(msg: Any) -> None:
            now = time.time()
            body = json.loads(msg.data)
            at = datetime.fromisoformat(body["occurred_at"]).timestamp()
            seen.append((int(body["event_id"]), at, now))

        await js.subscribe("tote.v1.events.>", cb=got, ordered_consumer=True,
                           deliver_policy=DeliverPolicy.NEW)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await nc.close()
        out.put(seen)

    asyncio.run(main())


# -- helpers ---------------------------------------------------------------------------------------

def _placed(db: str) -> int:
    return scalar(db, "SELECT count(*) FROM orders")


def _newest_event(db: str) -> int:
    return scalar(db, "SELECT max(event_id) FROM order_events")


def _relay_position(db: str) -> int:
    return scalar(db, "SELECT position FROM outbox_positions WHERE consumer = 'nats'")


def _metrics(url: str) -> tuple[float, list[tuple[float, float]]]:
    """(tote_relay_published_total, the lag histogram's cumulative (le, count) buckets)."""
    text = httpx.get(url, timeout=10).text
    published = float(re.search(r"^tote_relay_published_total (\S+)", text, re.M).group(1))  # type: ignore[union-attr]
    buckets = [(float(le), float(n)) for le, n in re.findall(
        r'^tote_relay_lag_seconds_bucket\{le="([^"]+)"\} (\S+)', text, re.M)]
    return published, buckets


def _histogram_quantile(q: float, before: list[tuple[float, float]],
                        after: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over the observations between two scrapes."""
    counts = [(le, n - m) for (le, n), (_, m) in zip(after, before, strict=True)]
    total = counts[-1][1]
    if total <= 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for le, n in counts:
        if n >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * (rank - below) / max(n - below, 1e-9)
        lower, below = le, n
    return lower


# -- the relay -------------------------------------------------------------------------------------

def relay_figures(workdir: Path, args: argparse.Namespace, found: dict[str, Any]
                  ) -> dict[str, dict[str, float]]:
    """Events relayed per second and relay lag at full and at half saga throughput."""
    seconds, concurrency = args.seconds, args.concurrency
    (workdir / "nats").mkdir(parents=True)
    broker = NatsServer(workdir / "nats").start()
    db = str(workdir / "bench.db")
    server = ToteServer(db, workdir, args=["--log-level", "WARNING", "--nats-url", broker.url,
                                           "--metrics-listen", "127.0.0.1:0"])
    ctx = multiprocessing.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_subscriber, args=(broker.url, ready, stop, out), daemon=True)
    figures: dict[str, dict[str, float]] = {}
    try:
        server.start()
        admin = server.client(server.token("admin", "bench"))
        admin.fc("FC-BENCH")
        admin.product("BENCH-SKU", price_minor=10_000, weight_grams=100)
        admin.receive("FC-BENCH", "BENCH-SKU", 1_000_000)
        token = sandbox_card(server.sandbox_url)
        reader.start()

        async def phase(name: str, rate: float | None) -> dict[str, float]:
            async with aio.insecure_channel(server.grpc_address) as channel:
                from tote.v1 import orders_pb2_grpc

                stub = orders_pb2_grpc.OrderServiceStub(channel)

                def call() -> Any:
                    return stub.PlaceOrder(place_request([("BENCH-SKU", 1)], card(token)),
                                           metadata=admin.metadata)

                events0, finished0 = _newest_event(db), finished(db)
                published0, buckets0 = _metrics(server.metrics_url)
                t0 = time.time()
                placed = (await drive(call, concurrency, seconds) if rate is None
                          else await paced(lambda _: call(), rate, seconds))
                placing = time.time() - t0
                target = _placed(db)
                while finished(db) < target:  # the sagas of the orders placed
                    await asyncio.sleep(0.01)
                sagas_done = time.time() - t0
                while _relay_position(db) < _newest_event(db):
                    await asyncio.sleep(0.01)
                caught_up = time.time() - t0
                published1, buckets1 = _metrics(server.metrics_url)
                events = _newest_event(db) - events0
                return {
                    "t0": t0, "t1": t0 + caught_up,
                    "placed_per_s": placed / placing,
                    "sagas_per_s": (finished(db) - finished0) / sagas_done,
                    "events_per_s": events / sagas_done,
                    "relayed_per_s": (published1 - published0) / caught_up,
                    "relayed_events": published1 - published0, "events": events,
                    "sagas_done_s": sagas_done - placing,
                    "caught_up_s": caught_up - placing,
                    "ack_p50_ms": 1000 * _histogram_quantile(0.5, buckets0, buckets1),
                    "ack_p99_ms": 1000 * _histogram_quantile(0.99, buckets0, buckets1),
                }

        async def run() -> None:
            async with aio.insecure_channel(server.grpc_address) as channel:  # warm up
                from tote.v1 import orders_pb2_grpc

                stub = orders_pb2_grpc.OrderServiceStub(channel)
                await drive(lambda: stub.PlaceOrder(
                    place_request([("BENCH-SKU", 1)], card(token)), metadata=admin.metadata),
                    8, 1.0)
            while not ready.is_set():
                await asyncio.sleep(0.05)
            figures["full"] = await phase("full", None)
            figures["half"] = await phase("half", figures["full"]["sagas_per_s"] / 2)

        asyncio.run(run())
        admin.close()
        stop.set()
        seen = out.get(timeout=60)
        reader.join(10)
        for fig in figures.values():
            lags = [recv - at for _, at, recv in seen if fig["t0"] <= at <= fig["t1"]]
            fig["seen_p50_ms"] = 1000 * quantile(lags, 0.5)
            fig["seen_p99_ms"] = 1000 * quantile(lags, 0.99)
            fig["seen_events"] = len(lags)
    finally:
        stop.set()
        if reader.is_alive():
            reader.terminate()
        if server.proc is not None:
            server.terminate()
        broker.stop()
    return figures


def print_relay(figures: dict[str, dict[str, float]]) -> None:
    print("NATS relay (SQLite, card sagas against the in-process sandbox):")
    for name in ("full", "half"):
        f = figures[name]
        print(f"  {name:>4}: placed {f['placed_per_s']:6.0f}/s, sagas {f['sagas_per_s']:5.0f}/s, "
              f"events {f['events_per_s']:6.0f}/s committed, {f['relayed_per_s']:6.0f}/s "
              f"relayed ({f['relayed_events']:.0f} of {f['events']:.0f})")
        print(f"        relay lag commit→ack p50 {f['ack_p50_ms']:6.1f} ms, p99 "
              f"{f['ack_p99_ms']:6.1f} ms; commit→subscriber p50 {f['seen_p50_ms']:6.1f} ms, "
              f"p99 {f['seen_p99_ms']:6.1f} ms ({f['seen_events']:.0f} events)")
        print(f"        after the last order: sagas done in {f['sagas_done_s']:.2f} s, every "
              f"event relayed in {f['caught_up_s']:.2f} s")


# (name, measure(workdir, args, figures found so far by name) -> figures, print them)
FIGURES: list[tuple[str, Callable[[Path, argparse.Namespace, dict[str, Any]], Any],
                    Callable[[Any], None]]] = [
    ("relay", relay_figures, print_relay),
    ("webhooks", webhook_figures, print_webhooks),
    ("notifications", notification_figures, print_notifications),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32,
                        help="PlaceOrder callers at full saga throughput")
    parser.add_argument("--only", choices=[name for name, *_ in FIGURES],
                        help="run this figure only (default: all, in this order)")
    parser.add_argument("--webhook-orders", type=int, default=200,
                        help="webhooks: the orders whose events make the backlog")
    parser.add_argument("--webhook-rate", type=float,
                        help="webhooks: orders/s in the live phase (default: half what the "
                             "sender kept up in the backlog)")
    parser.add_argument("--notify-rate", type=float,
                        help="notifications: orders/s worked to SHIPPED (default: half this "
                             "server's saga throughput, measured first)")
    args = parser.parse_args()
    print(f"tote events bench — {os.cpu_count()} cores, {args.seconds:g} s per phase, "
          f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n", flush=True)
    found: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, measure, show in FIGURES:
            if args.only in (None, name):
                found[name] = measure(Path(tmp) / name, args, found)
                show(found[name])
                print(flush=True)


if __name__ == "__main__":
    main()
