"""`tote demo`: tote serve --sandbox on SQLite, seeded, with orders driven all the way.

A newcomer sees the saga work: card holds, declines and their compensation, UPI intents
approved (or declined) in the sandbox by simulated customers, cash on delivery, an order that
runs out of stock — then simulated pickers, packers, a dock supervisor and the carrier take
the orders to DELIVERED, labels land in ./demo-labels, the carrier remits the COD cash (once
short, on purpose) and the closing tables reconcile it all.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
import uuid
from dataclasses import replace
from pathlib import Path

import grpc
import httpx
from grpc import aio
from sqlalchemy import select

import labels
from core.domain.words import count
from core.persistence.db import Database
from core.persistence.fulfillment_models import Shipment
from core.service import check
from core.service.tokens import create_token
from demo import report
from demo.actors import REFUSED, Floor, Tokens, bearer, with_backoff
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
    shipping_pb2,
    shipping_pb2_grpc,
)

FCS = [("FC-BLR", "Bengaluru North", 13.10, 77.59, 16), ("FC-DEL", "Delhi Gurugram", 28.46,
       77.03, 15), ("FC-BOM", "Mumbai Bhiwandi", 19.30, 73.06, 17)]
FC_ADDRESSES = {  # what the labels print under FROM: line1, city, PIN
    "FC-BLR": ("Plot 14, KIADB Aerospace Park", "Bengaluru", "562149"),
    "FC-DEL": ("Sector 37, Khasra 22", "Gurugram", "122001"),
    "FC-BOM": ("Gala 5, Vashere village", "Bhiwandi", "421302")}
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
          "Payment_Refunded": "35", "Order_Packed": "36", "Order_Shipped": "36",
          "Order_Delivered": "32", "Cod_Collected": "32", "Payment_Settled": "32"}
FINAL = {"DELIVERED", "CANCELLED"}
SHORT_BY_MINOR = 5_000  # the carrier's deliberate mistake: one transfer ₹50 short
LABEL_DIR = "demo-labels"


class Demo:
    def __init__(self, running: Running, tokens: Tokens, orders: int, seed: int,
                 label_dir: Path) -> None:
        self.running = running
        self.rand = random.Random(seed)
        self.orders = orders
        self.tokens = tokens
        self.md = tokens.admin
        self.channel = aio.insecure_channel(running.grpc_address)
        self.order_stub = orders_pb2_grpc.OrderServiceStub(self.channel)
        self.shipping = shipping_pb2_grpc.ShippingServiceStub(self.channel)
        self.sandbox_url = running.sandbox.url if running.sandbox else ""
        self.http = httpx.AsyncClient(base_url=self.sandbox_url)
        self.console = report.Console()
        self.floor = Floor(self.channel, tokens, self.http,
                           {sku: (gtin, grams) for sku, _, gtin, _, grams in PRODUCTS},
                           label_dir, self.console.line, random.Random(seed + 1))
        self.status: dict[str, str] = {}
        self.kind: dict[str, str] = {}
        self.cash: dict[str, int] = {}     # COD tracking number → cash the courier collected
        self.settled: set[str] = set()

    async def seed(self) -> None:
        fcs = fulfillment_pb2_grpc.FulfillmentServiceStub(self.channel)
        cat = catalog_pb2_grpc.CatalogServiceStub(self.channel)
        inv = inventory_pb2_grpc.InventoryServiceStub(self.channel)
        for fc_id, name, lat, lon, cutoff in FCS:
            line1, city, pin = FC_ADDRESSES[fc_id]
            address = common_pb2.Address(name=f"tote {name}", line1=line1, city=city,
                                         postal_code=pin, country="IN", latitude=lat,
                                         longitude=lon)
            await fcs.UpsertFulfillmentCenter(fulfillment_pb2.UpsertFulfillmentCenterRequest(
                fc=common_pb2.FulfillmentCenter(fc_id=fc_id, name=name, latitude=lat,
                                                longitude=lon, cutoff_hour=cutoff,
                                                daily_capacity=2000, address=address)),
                metadata=self.md)
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
        if i % 10 == 2:
            roll = 0.9  # every tenth shopper pays cash, so the COD tables have something to show
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
        request = orders_pb2.PlaceOrderRequest(
            idempotency_key=str(uuid.uuid4()), customer_id=f"cust-{self.rand.randint(1, 40)}",
            lines=[common_pb2.OrderLine(sku=s, quantity=q) for s, q in lines],
            ship_to=common_pb2.Address(name=name, line1=line1, city=city, postal_code=pin,
                                       country="IN", phone="+919800000000",
                                       latitude=lat, longitude=lon),
            payment=payment, currency="INR")
        order = await with_backoff(lambda: self.order_stub.PlaceOrder(request, metadata=self.md))
        self.kind[order.order_id] = kind
        self.status.setdefault(order.order_id, report.STATUS[order.status])
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
            self.status[event.order_id] = report.STATUS[event.status]
            if event.type == "Payment_Settled":
                self.settled.add(event.order_id)
            kind = self.kind.get(event.order_id, "")
            self.console.line(f"{event.order_id[-8:]}  {kind:<16} {event.type:<28} "
                              f"{event.detail}", COLORS.get(event.type))

    async def show_status(self) -> None:
        while True:
            self.console.status(collections.Counter(self.status[o] for o in self.kind))
            await asyncio.sleep(1.0)

    def unfinished(self) -> list[str]:
        return [o for o in self.kind if self.status.get(o) not in FINAL]

    async def run(self) -> bool:
        """Place the orders and work them to the end; False if some never got there."""
        watcher = asyncio.create_task(self.watch())
        ticker = asyncio.create_task(self.show_status())
        actors = self.floor.start([fc for fc, *_ in FCS])
        await asyncio.sleep(0.2)
        for i in range(self.orders):
            await self.place_one(i)
            await asyncio.sleep(self.rand.uniform(0.05, 0.3))
        deadline = time.monotonic() + 40 + self.orders
        while self.unfinished() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        finished = not self.unfinished()
        if finished:
            await self.remit_cod()
            await self.wait_for_settlement()
        for task in (*actors, *self.floor.busy, ticker):
            task.cancel()
        await asyncio.sleep(0.3)  # the last events reach the screen
        watcher.cancel()
        self.console.end_live()
        return finished

    async def remit_cod(self) -> None:
        """The carrier pays the cash it collected: one exact transfer, one ₹50 short."""
        self.cash = await asyncio.to_thread(_cash_collected, self.running)
        parcels = sorted(self.cash)
        if not parcels:
            self.console.line("carrier: no cash on delivery was collected, nothing to remit")
            return
        *exact, last = parcels
        transfers = [("NEFT-DEMO-1", exact, sum(self.cash[t] for t in exact))] if exact else []
        transfers.append(("NEFT-DEMO-2", [last],
                          self.cash[last] - min(SHORT_BY_MINOR, self.cash[last] // 2)))
        for reference, numbers, amount in transfers:
            await self.shipping.RecordCodRemittance(shipping_pb2.RecordCodRemittanceRequest(
                carrier="sandbox", reference=reference, tracking_numbers=numbers,
                amount=common_pb2.Money(amount_minor=amount, currency="INR")),
                metadata=self.tokens.supervisor)
            self.console.line(f"carrier: remittance {reference} of {report.money(amount)} for "
                              f"{count(len(numbers), 'COD parcel')}",
                              REFUSED if reference.endswith("2") else None)

    async def wait_for_settlement(self) -> None:
        """Until the settlement worker has paid out every delivered order it can (≤ 10 s)."""
        short_order = self.floor.done.parcels.get(max(self.cash)) if self.cash else None
        due = {o for o, s in self.status.items() if s == "DELIVERED" and o != short_order}
        deadline = time.monotonic() + 10
        while not due <= self.settled and time.monotonic() < deadline:
            await asyncio.sleep(0.3)

    async def close(self) -> None:
        await self.http.aclose()
        await self.channel.close()


def _token(running: Running, role: str, name: str, fc_id: str | None = None) -> str:
    db = Database(running.db.url)
    try:
        return db.run_write(lambda s: create_token(s, role, name, fc_id))[1]
    finally:
        db.dispose()


def _cash_collected(running: Running) -> dict[str, int]:
    """Tracking number → the cash its courier took at the door, in minor units.

    The sandbox carrier keeps no cash book, so the demo's courier company reads what tote
    recorded at each delivery (the events say it too, but in words for people).
    """
    db = Database(running.db.url)
    try:
        rows = db.run_read(lambda s: s.execute(
            select(Shipment.tracking_number, Shipment.cod_collected_minor)
            .where(Shipment.carrier == "sandbox", Shipment.cod_collected_minor > 0)).all())
    finally:
        db.dispose()
    return {str(tracking): int(cash or 0) for tracking, cash in rows}


async def _floor_tokens(running: Running, tokens: Tokens) -> None:
    """The dock supervisor's token and one picker token per FC (the FCs exist by now)."""
    tokens.supervisor = bearer(await asyncio.to_thread(_token, running, "supervisor", "dock"))
    for fc, *_ in FCS:
        tokens.pickers[fc] = bearer(await asyncio.to_thread(
            _token, running, "picker", f"picker-{fc}", fc))


def _label_dir() -> Path:
    path = Path(LABEL_DIR).resolve()
    try:
        path.mkdir(exist_ok=True)
        for old in (*path.glob("TT*.pdf"), *path.glob("TT*.zpl")):  # the last run's labels
            old.unlink()
    except OSError as exc:
        raise SystemExit(f"cannot write labels to {path}: {exc.strerror}; run the demo from a "
                         "directory you can write to") from None
    return path


async def _closing(demo: Demo, running: Running, label_dir: Path) -> list[str]:
    """The closing tables; returns tote check's findings."""
    report.orders_table(demo.status, demo.kind)
    entries = (await demo.http.get("/v1/ledger")).json()["entries"]
    report.ledger_table(entries)
    rec = await demo.shipping.GetCodReconciliation(
        shipping_pb2.GetCodReconciliationRequest(carrier="sandbox"),
        metadata=demo.tokens.supervisor)
    report.cod_table(rec)
    payouts = sum(1 for e in entries if e["kind"] == "settlement")
    print(f"\nsettled: {count(len(demo.settled), 'order')} paid out to the shop "
          f"({count(payouts, 'settlement batch', 'settlement batches')} in the gateway ledger)")
    done = demo.floor.done
    print(f"floor: {count(done.scans, 'unit')} scanned, {count(len(done.parcels), 'parcel')} "
          f"packed, {count(len(done.manifests), 'manifest')}; "
          f"{count(done.wrong_scans, 'wrong scan')} and "
          f"{count(done.weight_refusals, 'wrong weight')} refused, "
          f"{count(done.short_picks, 'short pick')}")
    if done.labels:
        first = done.labels[0]
        codes = await asyncio.to_thread(labels.verify, first.read_bytes())
        print(f"labels: {len(done.labels)} PDFs (and one ZPL) in {label_dir}/ — {first.name} "
              f"reads back as {', '.join(sorted({c.symbology for c in codes}))}")
    db = Database(running.db.url)
    try:
        found = await asyncio.to_thread(db.run_read, check.findings)
    finally:
        db.dispose()
    for finding in found:
        print(f"  ! {finding}")
    print(f"tote check: {'clean' if not found else count(len(found), 'finding')} "
          f"({running.db.url})")
    return found


async def run_demo(settings: Settings, orders: int, keep_running: bool, seed: int) -> None:
    db_path = Path(settings.db_url or "tote-demo.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    # The carrier is polled and payments settled every second, so the demo ends in a minute.
    fulfillment = replace(settings.fulfillment, tracking_poll_s=1.0, settlement_interval_s=1.0)
    settings = replace(settings, db_url=str(db_path), sandbox=True, fulfillment=fulfillment)
    label_dir = _label_dir()
    print(f"starting tote serve --sandbox on a fresh SQLite file ({db_path}) …", flush=True)
    running = await start(settings)
    admin = await asyncio.to_thread(_token, running, "admin", "demo")
    tokens = Tokens(admin=bearer(admin), supervisor=(), pickers={})
    print(f"tote is serving gRPC on {running.grpc_address}, sandbox on "
          f"{running.sandbox.url if running.sandbox else '-'}")
    demo = Demo(running, tokens, orders, seed, label_dir)
    try:
        await demo.seed()
        await _floor_tokens(running, tokens)
        print(f"placing {orders} orders (card, UPI, cash on delivery); pickers, packers, the "
              "dock and the carrier take them from there. Events as they happen:\n")
        finished = await demo.run()
        if not finished:
            left = collections.Counter(demo.status[o] for o in demo.unfinished())
            print("\nthe demo did not finish: " + ", ".join(
                f"{count(n, 'order')} still {s}" for s, n in sorted(left.items()))
                + "; run it again "
                "with --keep-running to look at them with the console")
        found = await _closing(demo, running, label_dir)
        if keep_running:
            print(f"\ntote keeps serving on {running.grpc_address}; admin token:\n{admin}\n"
                  "Ctrl-C to stop.", flush=True)
            await asyncio.Event().wait()
        if found or not finished:
            raise SystemExit(1)
    except grpc.RpcError as exc:
        raise SystemExit(f"demo call failed: {exc.code().name}: {exc.details()}") from None
    finally:
        await demo.close()
        await running.stop(grace_s=2)
