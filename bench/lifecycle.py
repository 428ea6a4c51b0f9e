"""Phase 4 of bench/fulfillment.py: whole orders placed (card), picked, packed, handed off
and advanced by the sandbox carrier to DELIVERED, as fast as simulated actors can."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from datetime import datetime

import grpc
import httpx
from grpc import aio

from bench.fulfillment import (
    LIFE_FC,
    LIFE_SKU,
    LIFE_UNITS,
    LIFE_WEIGHT,
    Bench,
    Terminal,
    _pct,
    _scan,
    _status_count,
)
from tests.harness import card, place_request
from tote.v1 import (
    fulfillment_pb2,
    fulfillment_pb2_grpc,
    orders_pb2_grpc,
    shipping_pb2,
    shipping_pb2_grpc,
)


async def lifecycle(bench: Bench, token: str, seconds: float, placers: int = 4,
                    inflight: int = 64) -> dict[str, float]:
    """Place card orders for `seconds` (≤ `inflight` undelivered); pickers, packers, the dock
    and the carrier work them to DELIVERED as fast as they can."""
    pack_q: asyncio.Queue[str] = asyncio.Queue()
    dock_q: asyncio.Queue[str] = asyncio.Queue()
    road_q: asyncio.Queue[str] = asyncio.Queue()
    placed: list[str] = []
    errors: list[str] = []
    placing, delivered = True, 0
    before = _status_count(bench.db_path, ("DELIVERED",))

    async with aio.insecure_channel(bench.server.grpc_address) as channel, \
            httpx.AsyncClient(base_url=bench.sandbox_url, timeout=30) as http:
        orders = orders_pb2_grpc.OrderServiceStub(channel)
        ful = fulfillment_pb2_grpc.FulfillmentServiceStub(channel)
        ship = shipping_pb2_grpc.ShippingServiceStub(channel)

        async def place() -> None:
            while placing:
                # A warehouse takes in what it can ship: an unbounded backlog would only
                # measure the queue, and the drain would outlast the run.
                if len(placed) - delivered >= inflight:
                    await asyncio.sleep(0.02)
                    continue
                order = await orders.PlaceOrder(place_request(
                    [(LIFE_SKU, LIFE_UNITS)], card(token)), metadata=bench.meta("bench"))
                placed.append(order.order_id)

        async def pick(who: str) -> None:
            while True:
                try:
                    task = await ful.NextPickTask(fulfillment_pb2.NextPickTaskRequest(
                        fc_id=LIFE_FC), metadata=bench.meta(who))
                except grpc.RpcError as exc:
                    if exc.code() != grpc.StatusCode.NOT_FOUND:
                        errors.append(f"NextPickTask {exc.code().name}: {exc.details()}")
                    await asyncio.sleep(0.02)
                    continue
                terminal = Terminal(who, task.task_id, [
                    ln.gtin for ln in task.lines for _ in range(ln.quantity - ln.picked)])
                while (barcode := terminal.take()) is not None:
                    await _scan(ful, bench, terminal, barcode)
                for order_id in dict.fromkeys(ln.order_id for ln in task.lines):
                    pack_q.put_nowait(order_id)

        async def pack(who: str) -> None:
            while True:
                order_id = await pack_q.get()
                try:
                    packed = await ful.PackOrder(fulfillment_pb2.PackOrderRequest(
                        order_id=order_id, weight_grams=LIFE_UNITS * LIFE_WEIGHT + 150, box="S"),
                        metadata=bench.meta(who), timeout=60)
                    dock_q.put_nowait(packed.order.tracking_number)
                except grpc.RpcError as exc:
                    errors.append(f"PackOrder {exc.code().name}: {exc.details()}")

        async def dock() -> None:
            while True:  # the truck leaves every quarter second with what is packed
                await asyncio.sleep(0.25)
                parcels = [dock_q.get_nowait() for _ in range(min(dock_q.qsize(), 200))]
                if parcels:
                    await ship.HandOff(shipping_pb2.HandOffRequest(
                        carrier="sandbox", tracking_numbers=parcels), metadata=bench.meta("dock"))
                    for tracking in parcels:
                        road_q.put_nowait(tracking)

        async def drive() -> None:
            while True:  # in_transit → out_for_delivery → delivered, each a webhook to tote
                tracking = await road_q.get()
                for _ in range(3):
                    (await http.post(f"/v1/shipments/{tracking}/advance", json={})
                     ).raise_for_status()

        actors = [asyncio.create_task(c) for c in (
            *(pick(f"life-{i}") for i in range(4)), *(pack(f"life-{i}") for i in range(4, 7)),
            dock(), drive(), drive())]
        t0 = time.perf_counter()
        placer_tasks = [asyncio.create_task(place()) for _ in range(placers)]
        deadline, drained, next_report = t0 + seconds, None, t0 + 5
        while True:
            await asyncio.sleep(0.25)
            now = time.perf_counter()
            if placing and now >= deadline:
                placing = False
                await asyncio.gather(*placer_tasks)
            delivered = _status_count(bench.db_path, ("DELIVERED",)) - before
            if not placing and delivered >= len(placed):
                drained = time.perf_counter()
                break
            if now > deadline + 60:
                break
            if now >= next_report:
                next_report += 5
                print(f"  … {now - t0:4.0f} s: {len(placed)} placed, {delivered} delivered, "
                      f"queues pack {pack_q.qsize()} dock {dock_q.qsize()} "
                      f"road {road_q.qsize()}", flush=True)
        for actor in actors:
            actor.cancel()
        await asyncio.gather(*actors, return_exceptions=True)
    total = (drained or time.perf_counter()) - t0
    if errors:
        print(f"  {len(errors)} errors, e.g. {errors[0]}")
    ages = sorted(_delivery_ages(bench.db_path, placed))
    return {"placed": len(placed), "delivered": len(ages), "seconds": total,
            "per_s": len(ages) / total, "p50_s": statistics.median(ages) if ages else 0,
            "p99_s": _pct(ages, 0.99) if ages else 0}


def _delivery_ages(db_path: str, order_ids: list[str]) -> list[float]:
    """Seconds from placement to the Order_Delivered event, per delivered order."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        conn.execute("CREATE TEMP TABLE mine (order_id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO mine VALUES (?)", [(o,) for o in order_ids])
        rows = conn.execute(
            "SELECT o.created_at, e.occurred_at FROM orders o JOIN mine USING (order_id) "
            "JOIN order_events e ON e.order_id = o.order_id AND e.type = 'Order_Delivered'")
        return [(datetime.fromisoformat(d) - datetime.fromisoformat(c)).total_seconds()
                for c, d in rows]
    finally:
        conn.close()
