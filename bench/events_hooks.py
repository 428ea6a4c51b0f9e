"""bench/events.py's webhook figure: storefront webhook deliveries per second from a real
`tote serve` to a local receiver, and how long after an event's commit the receiver has it.

tote serve on SQLite (the sandbox in its process, card sagas, a signing key,
--webhooks-allow-private); the receiver is a real HTTP server on loopback in a process of its
own (bench/events_parts.hook_receiver), verifying every delivery's signature with the
`standardwebhooks` reference library before answering 200. Two phases:
  backlog  --webhook-orders orders of one storefront are placed with no endpoint and their
           sagas left to end; then an endpoint is registered and every event of those orders
           is fanned out to it in one transaction (what the outbox's "webhooks" consumer does
           for new events). From that commit to the last delivery received: what the sender
           can push (deliveries/s), and each delivery's wait behind the others (p50/p99).
  live     another storefront's endpoint registered first; its orders placed at an even pace
           (open loop) for --seconds, at half the rate the sender kept up in the backlog
           (in orders/s: its deliveries/s ÷ the events per order ÷ 2), or --webhook-rate; each
           event delivered as it happens: deliveries/s, and each delivery's latency from the
           event's commit (its occurred_at, read from the database) to the receiver's receipt.
Events of one order go one after another (order per order), as tote delivers them.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grpc import aio

from bench.events_parts import (
    epoch,
    finished,
    hook_receiver,
    paced,
    party,
    rows,
    scalar,
    spread_ms,
    tokens,
    wait_until,
)
from core.persistence.db import Database
from core.persistence.repos import events as event_repo
from core.service import webhooks
from tests.harness import ToteServer, card, free_port, place_request, sandbox_card
from tote.v1 import orders_pb2_grpc, webhooks_pb2_grpc
from tote.v1 import webhooks_pb2 as pb

KEY = "bench-signing-key-" + "k" * 32
FC, SKU = "FC-HOOKS", "BENCH-HOOK"


def _occurred(db: str, storefront: str) -> dict[str, float]:
    """{event id: occurred_at} of one storefront's events."""
    return {str(e): epoch(at) for e, at in rows(
        db, "SELECT e.event_id, e.occurred_at FROM order_events e JOIN orders o "
            "USING (order_id) WHERE o.storefront = ?", (storefront,))}


def _events_of(db: str, storefront: str) -> int:
    return scalar(db, "SELECT count(*) FROM order_events e JOIN orders o USING (order_id) "
                      "WHERE o.storefront = ?", (storefront,))


def webhook_figures(workdir: Path, args: argparse.Namespace, found: dict[str, Any]
                    ) -> dict[str, dict[str, float]]:
    workdir.mkdir(parents=True)
    db = str(workdir / "bench.db")
    server = ToteServer(db, workdir, args=["--log-level", "WARNING", "--webhooks-allow-private"],
                        env={"TOTE_WEBHOOK_SIGNING_KEY": KEY})
    figures: dict[str, dict[str, float]] = {}
    try:
        server.start()
        made = tokens(db, [("admin", "bench"), ("storefront", "shop-backlog"),
                           ("storefront", "shop-live")])
        admin = server.client(made["bench"])
        admin.fc(FC)
        admin.product(SKU, price_minor=10_000, weight_grams=100)
        admin.receive(FC, SKU, 1_000_000)
        card_token = sandbox_card(server.sandbox_url)

        async def place(shop: str, n: int, rate: float | None) -> float:
            """n orders of `shop` (8 at a time), or paced at `rate`/s for --seconds; the
            time.time() the first was sent."""
            meta = (("authorization", f"Bearer {made[shop]}"),)
            async with aio.insecure_channel(server.grpc_address) as channel:
                stub = orders_pb2_grpc.OrderServiceStub(channel)

                async def one(_: int = 0) -> None:
                    await stub.PlaceOrder(place_request([(SKU, 1)], card(card_token)),
                                          metadata=meta)

                t0 = time.time()
                if rate is None:
                    todo = iter(range(n))

                    async def worker() -> None:
                        for _ in todo:
                            await one()

                    await asyncio.gather(*(worker() for _ in range(8)))
                else:
                    await paced(one, rate, args.seconds)
            return t0

        before = finished(db)
        asyncio.run(place("shop-backlog", args.webhook_orders, None))
        asyncio.run(wait_until("the backlog's sagas",
                               lambda: finished(db) - before >= args.webhook_orders, 300))
        hooks = webhooks_pb2_grpc.WebhookServiceStub(admin.channel)
        port = free_port()
        secrets = {}
        for shop in ("shop-backlog", "shop-live"):
            secrets[f"/{shop}"] = hooks.CreateEndpoint(pb.CreateEndpointRequest(
                url=f"http://127.0.0.1:{port}/{shop}", storefront=shop),
                metadata=admin.metadata).secret
        with party(hook_receiver, port, secrets) as receiver:
            base = Database(db)
            try:
                events = base.run_read(lambda s: [
                    e for (i,) in rows(db, "SELECT order_id FROM orders WHERE storefront = ?",
                                       ("shop-backlog",))
                    for e in event_repo.of_order(s, i)])
                fanned = time.time()
                base.run_write(lambda s: webhooks.fan_out(s, events, datetime.now(UTC)))
            finally:
                base.dispose()
            t1 = asyncio.run(wait_until("every backlog delivery",
                                        lambda: receiver.count.value >= len(events), 600))
            per_order = len(events) / args.webhook_orders
            # (from the bench's look at the count: the receipts' own times are used below)
            rate = args.webhook_rate or len(events) / (t1 - fanned) / per_order / 2
            first = asyncio.run(place("shop-live", 0, rate))
            asyncio.run(wait_until("the live sagas", lambda: finished(db) - before >= (
                args.webhook_orders + int(rate * args.seconds)), 300))
            expected = _events_of(db, "shop-live")
            asyncio.run(wait_until(
                "every live delivery",
                lambda: receiver.count.value >= len(events) + expected, 600))
            seen = receiver.finish()
        bad = sum(1 for *_, ok in seen if not ok)
        waits = [at - fanned for path, _, at, ok in seen if ok and path == "/shop-backlog"]
        figures["backlog"] = {"deliveries": len(waits), "seconds": max(waits),
                              "per_s": len(waits) / max(waits), **spread_ms(waits)}
        occurred = _occurred(db, "shop-live")
        live = [at - occurred[i] for path, i, at, ok in seen if ok and path == "/shop-live"]
        last = max(at for path, _, at, ok in seen if ok and path == "/shop-live")
        figures["live"] = {"rate": rate, "orders": int(rate * args.seconds),
                           "deliveries": len(live), "per_order": per_order,
                           "per_s": len(live) / (last - first), "refused": bad, **spread_ms(live)}
        half = found.get("relay", {}).get("half")
        if half:
            figures["live"]["half_saga_events_per_s"] = half["events_per_s"]
        admin.close()
    finally:
        if server.proc is not None:
            server.terminate()
    return figures


def print_webhooks(figures: dict[str, dict[str, float]]) -> None:
    b, v = figures["backlog"], figures["live"]
    print("Storefront webhooks (SQLite, card sagas; a receiver verifying each signature with "
          "standardwebhooks):")
    print(f"  backlog: {b['deliveries']:.0f} deliveries in {b['seconds']:.2f} s, "
          f"{b['per_s']:.0f} deliveries/s; fan-out commit → received p50 {b['p50_ms']:.0f} ms, "
          f"p99 {b['p99_ms']:.0f} ms")
    print(f"  live:    {v['orders']:.0f} orders at {v['rate']:.1f}/s ({v['per_order']:.1f} events "
          f"each): {v['deliveries']:.0f} deliveries, {v['per_s']:.0f}/s; event commit → "
          f"received p50 {v['p50_ms']:.0f} ms, p99 {v['p99_ms']:.0f} ms, max "
          f"{v['max_ms']:.0f} ms; {v['refused']:.0f} failed verification")
    if "half_saga_events_per_s" in v:
        print(f"  the sender's {b['per_s']:.0f} deliveries/s against the "
              f"{v['half_saga_events_per_s']:.0f} events/s committed at half saga throughput "
              f"(relay figure): one endpoint subscribed to every event "
              f"{'keeps' if b['per_s'] >= v['half_saga_events_per_s'] else 'does not keep'} up")
