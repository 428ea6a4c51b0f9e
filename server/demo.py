"""`tote demo`: tote serve --sandbox on SQLite, seeded, with a stream of orders shown live.

A newcomer sees the saga work: card holds, declines and their compensation, UPI intents
approved (or declined) in the sandbox by simulated customers, cash on delivery, and an order
that runs out of stock.
"""

from __future__ import annotations

import asyncio
import collections
import random
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import grpc
import httpx
from grpc import aio

from core.persistence.db import Database
from core.service.tokens import create_token
from server.app import Running, start
from server.settings import Settings
from tote.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    fulfillment_pb2,
    fulfillment_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
)

FCS = [("FC-BLR", "Bengaluru North", 13.10, 77.59, 16), ("FC-DEL", "Delhi Gurugram", 28.46,
       77.03, 15), ("FC-BOM", "Mumbai Bhiwandi", 19.30, 73.06, 17)]
PRODUCTS = [  # sku, name, GTIN-13, price (paise), grams
    ("MUG-STEEL", "Steel travel mug 350 ml", "8901234567890", 49_900, 320),
    ("TEA-ASSAM", "Assam tea 500 g", "8906001234562", 32_000, 520),
    ("KURTA-M", "Cotton kurta, M", "8901030789014", 129_900, 280),
    ("LAMP-LED", "LED desk lamp", "8908001158244", 189_900, 900),
    ("BOOK-GITA", "Bhagavad Gita (hardcover)", "9788172763855", 45_000, 610),
    ("RICE-5KG", "Basmati rice 5 kg", "8906010500375", 89_900, 5000),
    ("PHONE-CASE", "Phone case", "8904130890123", 29_900, 60),
    ("LAST-ONE", "Limited print (last units)", "8901058000016", 99_900, 200),
]
CUSTOMERS = [("अनन्या शर्मा", "12 MG Road", "Bengaluru", "560001", 12.97, 77.59),
             ("Rahul Verma", "44 Connaught Place", "New Delhi", "110001", 28.63, 77.22),
             ("Priya Nair", "7 Marine Drive", "Mumbai", "400020", 18.94, 72.82),
             ("Arjun Rao", "3 Park Street", "Kolkata", "700016", 22.55, 88.35)]
COLORS = {"Order_Cancelled": "31", "Order_Ready_for_Fulfillment": "32", "Payment_Failed": "33",
          "Inventory_Failure": "33", "Payment_Voided": "35", "Inventory_Released": "35",
          "Payment_Refunded": "35"}
STATUS = {v: k.removeprefix("ORDER_STATUS_") for k, v in common_pb2.OrderStatus.items()}


def _paint(text: str, code: str | None) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if code and sys.stdout.isatty() else text


class Demo:
    def __init__(self, running: Running, token: str, orders: int, seed: int) -> None:
        self.running = running
        self.rand = random.Random(seed)
        self.orders = orders
        self.md = (("authorization", f"Bearer {token}"),)
        self.channel = aio.insecure_channel(running.grpc_address)
        self.order_stub = orders_pb2_grpc.OrderServiceStub(self.channel)
        self.sandbox_url = running.sandbox.url if running.sandbox else ""
        self.http = httpx.AsyncClient(base_url=self.sandbox_url)
        self.final: dict[str, int] = {}
        self.kind: dict[str, str] = {}
        self.started = time.monotonic()

    async def seed(self) -> None:
        fcs = fulfillment_pb2_grpc.FulfillmentServiceStub(self.channel)
        cat = catalog_pb2_grpc.CatalogServiceStub(self.channel)
        inv = inventory_pb2_grpc.InventoryServiceStub(self.channel)
        for fc_id, name, lat, lon, cutoff in FCS:
            await fcs.UpsertFulfillmentCenter(fulfillment_pb2.UpsertFulfillmentCenterRequest(
                fc=common_pb2.FulfillmentCenter(fc_id=fc_id, name=name, latitude=lat,
                                                longitude=lon, cutoff_hour=cutoff,
                                                daily_capacity=2000)), metadata=self.md)
        for sku, name, gtin, price, grams in PRODUCTS:
            await cat.UpsertProduct(catalog_pb2.UpsertProductRequest(product=common_pb2.Product(
                sku=sku, name=name, gtin=gtin, weight_grams=grams,
                unit_price=common_pb2.Money(amount_minor=price, currency="INR"))),
                metadata=self.md)
            for i, (fc_id, *_rest) in enumerate(FCS):
                qty = 2 if sku == "LAST-ONE" else 40 + 10 * i
                if sku == "LAST-ONE" and i:
                    continue
                await inv.ReceiveStock(inventory_pb2.ReceiveStockRequest(
                    fc_id=fc_id, sku=sku, quantity=qty, bin=f"{'ABC'[i]}-{len(name) % 9:02d}-1"),
                    metadata=self.md)
        print(f"seeded {len(FCS)} fulfillment centers, {len(PRODUCTS)} products and their stock")

    async def card_token(self, number: str) -> str:
        r = await self.http.post("/v1/tokens", json={"number": number, "exp_month": 12,
                                                     "exp_year": 2031, "cvc": "123"})
        r.raise_for_status()
        return r.json()["token"]

    async def place_one(self, i: int) -> None:
        name, line1, city, pin, lat, lon = self.rand.choice(CUSTOMERS)
        roll = self.rand.random()
        lines = [(self.rand.choice(PRODUCTS[:-1])[0], self.rand.randint(1, 3))
                 for _ in range(self.rand.randint(1, 3))]
        if roll < 0.45:
            kind = "card"
            number = "4000000000000002" if self.rand.random() < 0.15 else "4242424242424242"
            payment = common_pb2.PaymentMethod(card=common_pb2.CardPayment(
                token=await self.card_token(number)))
            kind += " (declined)" if number.startswith("4000") else ""
        elif roll < 0.75:
            kind = "upi"
            payment = common_pb2.PaymentMethod(upi=common_pb2.UpiPayment(vpa="customer@okbank"))
        else:
            kind = "cod"
            payment = common_pb2.PaymentMethod(cod=common_pb2.CashOnDelivery())
        if i % 12 == 5:
            lines = [("LAST-ONE", 2)]  # a few of these run out of stock
        order = await self.order_stub.PlaceOrder(orders_pb2.PlaceOrderRequest(
            idempotency_key=str(uuid.uuid4()), customer_id=f"cust-{self.rand.randint(1, 40)}",
            lines=[common_pb2.OrderLine(sku=s, quantity=q) for s, q in lines],
            ship_to=common_pb2.Address(name=name, line1=line1, city=city, postal_code=pin,
                                       country="IN", phone="+919800000000",
                                       latitude=lat, longitude=lon),
            payment=payment, currency="INR"), metadata=self.md)
        self.kind[order.order_id] = kind
        if kind == "upi":
            asyncio.create_task(self.customer_answers(order))

    async def customer_answers(self, order: common_pb2.Order) -> None:
        """The customer opens the UPI link on their phone a moment later."""
        await asyncio.sleep(self.rand.uniform(0.5, 2.5))
        action = "decline" if self.rand.random() < 0.15 else "approve"
        intent = order.payment.upi_intent_id
        for _ in range(50):
            r = await self.http.post(f"/v1/upi/intents/{intent}/{action}")
            if r.status_code != 404:
                return
            await asyncio.sleep(0.1)

    async def watch(self) -> None:
        stream = self.order_stub.WatchOrders(orders_pb2.WatchOrdersRequest(), metadata=self.md)
        async for event in stream:
            if event.type in ("Order_Ready_for_Fulfillment", "Order_Cancelled"):
                self.final[event.order_id] = event.status
            t = time.monotonic() - self.started
            kind = self.kind.get(event.order_id, "")
            line = (f"{t:6.1f}s  {event.order_id[-8:]}  {kind:<16} {event.type:<28} "
                    f"{event.detail[:70]}")
            print(_paint(line, COLORS.get(event.type)), flush=True)

    async def run(self) -> collections.Counter[str]:
        watcher = asyncio.create_task(self.watch())
        await asyncio.sleep(0.2)
        for i in range(self.orders):
            await self.place_one(i)
            await asyncio.sleep(self.rand.uniform(0.05, 0.3))
        deadline = time.monotonic() + 30
        while len(self.final) < len(self.kind) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        watcher.cancel()
        tally: collections.Counter[str] = collections.Counter()
        for order_id, kind in self.kind.items():
            tally[f"{kind.split(' ')[0]:<5} {STATUS[self.final.get(order_id, 1)]}"] += 1
        return tally

    async def close(self) -> None:
        await self.http.aclose()
        await self.channel.close()


async def run_demo(settings: Settings, orders: int, keep_running: bool, seed: int) -> None:
    db_path = Path(settings.db_url or "tote-demo.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = replace(settings, db_url=str(db_path), sandbox=True)
    print(f"starting tote serve --sandbox on a fresh SQLite file ({db_path}) …", flush=True)
    running = await start(settings)
    db = Database(running.db.url)
    token = db.run_write(lambda s: create_token(s, "admin", "demo", None))[1]
    db.dispose()
    print(f"tote is serving gRPC on {running.grpc_address}, sandbox on "
          f"{running.sandbox.url if running.sandbox else '-'}")
    demo = Demo(running, token, orders, seed)
    try:
        await demo.seed()
        print(f"placing {orders} orders (card, UPI, cash on delivery); events as they happen:\n")
        tally = await demo.run()
        entries = (await demo.http.get("/v1/ledger")).json()["entries"]
        print("\norders by payment method and final status:")
        for key, n in sorted(tally.items()):
            print(f"  {key:<24} {n:>4}")
        kinds = collections.Counter(f"{e['kind']}/{e['status']}" for e in entries)
        print("sandbox ledger:", ", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items())))
        if keep_running:
            print(f"\ntote keeps serving on {running.grpc_address}; admin token:\n{token}\n"
                  "Ctrl-C to stop.", flush=True)
            await asyncio.Event().wait()
    except grpc.RpcError as exc:
        raise SystemExit(f"demo call failed: {exc.code().name}: {exc.details()}") from None
    finally:
        await demo.close()
        await running.stop(grace_s=2)
