"""A million orders: do tote's reads and PlaceOrder stay as fast as the history grows?

    .venv/bin/python bench/data_growth.py [--sizes 10000,100000,1000000]
        [--db sqlite|postgres|both] [--calls 300] [--cache DIR] [--keep-pg] [--rebuild]
        [--build-only] [--sqlite-stats]

For each size and backend it builds a database of that many orders — several storefronts and
customers, 1-3 lines each, their events, shipments and pick lines; most DELIVERED, some
CANCELLED, the newest ones in flight (PROCESSING / PICKING / PACKED / SHIPPED), soft locks and
stock for 3,000 SKUs at 3 FCs — with bulk inserts (one transaction per batch on SQLite, COPY on
PostgreSQL), migrates it to head, starts a real `tote serve` on it (sandbox in-process) and
times, one call at a time: GetOrder, ListOrders (first page; by status; by customer; page 200
of a supervisor's list), GetStock and PlaceOrder (cash on delivery, so the saga runs without a
gateway). The sizes are served at once and take turns call by call, so load from elsewhere on
the machine falls on every size alike. Prints p50/p99 per call and size, and p99 at the
largest size ÷ p99 at the smallest (target ≤ 1.5). Asserts nothing.

Built databases are kept between runs: SQLite files in --cache (default
~/.cache/tote-bench/growth, e.g. 1 M orders ≈ 1 GB), each run working on a copy; PostgreSQL
builds go into a database of their own on 127.0.0.1:5432 (TOTE_BENCH_PG_URL), dropped at the
end, unless --keep-pg keeps it as a template (`tote_growth_<size>_v<N>`) that later runs copy
with CREATE DATABASE … TEMPLATE. --rebuild ignores what is cached.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from core.domain.gtin import gs1_check_digit  # noqa: E402
from core.persistence import migrate  # noqa: E402
from core.persistence.db import Database  # noqa: E402
from core.persistence.tables import (  # noqa: E402
    FULFILLMENT_CENTERS,
    ORDER_EVENTS,
    ORDER_LINES,
    ORDERS,
    PICK_LINES,
    PRODUCTS,
    SHIPMENTS,
    SOFT_LOCKS,
    STOCK_LEVELS,
)
from core.service.tokens import create_token  # noqa: E402
from tests.harness import Client, ToteServer, address, cod, place_request  # noqa: E402
from tote.v1 import common_pb2, inventory_pb2, orders_pb2  # noqa: E402

# Bump when the generated data changes shape: cached databases of another version are rebuilt.
DATA_VERSION = 1
# The schema the data is written against (later migrations run on a copy before each run).
BUILT_AT_REVISION = "0008"
PG_URL = os.environ.get("TOTE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

STOREFRONTS = ("shop-aurora", "shop-banyan", "shop-cobalt", "shop-delta", "shop-ember")
# Unequal shares, as real shops are: the first storefront has 40 % of the orders.
STOREFRONT_WEIGHTS = (40, 25, 15, 12, 8)
FCS = (("FC-BLR", 12.97, 77.59), ("FC-DEL", 28.61, 77.21), ("FC-BOM", 19.08, 72.88))
SKUS = 3_000
# The newest orders are still being worked: about two days of a busy shop, whatever the size of
# the history (work in progress follows the order rate, not how many orders were ever placed).
IN_FLIGHT = 1_000
IN_FLIGHT_MIX = (("PROCESSING", 0.40), ("PICKING", 0.30), ("PACKED", 0.15), ("SHIPPED", 0.15))
CANCELLED_SHARE = 0.04
ORDERS_PER_CUSTOMER = 6  # on average: customers grow with the history
SPACING = timedelta(seconds=30)  # between two orders: a million is about a year
BATCH = 50_000
PAGE = 50
DEEP_PAGE = 200


# -- ids and time ---------------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(prefix: str, at: datetime, rng: random.Random) -> str:
    """core.domain.ids.new_id for a given moment (the bench writes a past history)."""
    value = (int(at.timestamp() * 1000) << 80) | rng.getrandbits(80)
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_CROCKFORD[rem])
    return f"{prefix}_{''.join(reversed(chars))}"


def gtin(i: int) -> str:
    body = f"8{i:011d}"
    return body + str(gs1_check_digit(body))


# -- the data -------------------------------------------------------------------------------------

@dataclass
class Rows:
    """Rows of the big tables, by table name, as dicts of column → Python value."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.tables.setdefault(table, []).append(row)

    def count(self) -> int:
        return sum(len(r) for r in self.tables.values())


@dataclass
class Sample:
    """What the timed calls ask for: ids that exist in the built database."""

    order_ids: list[str]
    customers: list[str]
    skus: list[str]

    def to_json(self) -> str:
        return json.dumps({"order_ids": self.order_ids, "customers": self.customers,
                           "skus": self.skus})

    @classmethod
    def from_json(cls, text: str) -> Sample:
        d = json.loads(text)
        return cls(d["order_ids"], d["customers"], d["skus"])


def small_tables(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Products and FCs (stock comes after the orders: its soft locks must match theirs)."""
    products = [{"sku": f"SKU-{i:05d}", "name": f"Item {i}", "gtin": gtin(i),
                 "unit_price_minor": 9_900 + (i * 7919) % 190_000, "currency": "INR",
                 "weight_grams": 100 + (i * 131) % 2_400, "updated_at": now}
                for i in range(SKUS)]
    fcs = [{"fc_id": fc, "name": fc, "latitude": lat, "longitude": lon, "cutoff_hour": 16,
            "daily_capacity": 5_000, "address": {"name": f"tote {fc}", "line1": "Plot 7",
                                                 "city": "Bengaluru", "region": "KA",
                                                 "postal_code": "562149", "country": "IN",
                                                 "phone": "+918000000000"},
            "confirm_bin_scan": False} for fc, lat, lon in FCS]
    return {"products": products, "fulfillment_centers": fcs}


def _status_of(i: int, n: int, rng: random.Random) -> str:
    if i >= n - IN_FLIGHT:
        x, acc = rng.random(), 0.0
        for status, share in IN_FLIGHT_MIX:
            acc += share
            if x < acc:
                return status
        return "SHIPPED"
    return "CANCELLED" if rng.random() < CANCELLED_SHARE else "DELIVERED"


_PAYMENT = {  # (method, state) once the order reached the status
    ("card", "DELIVERED"): "captured", ("card", "SHIPPED"): "captured",
    ("card", "PACKED"): "captured", ("card", "PICKING"): "authorized",
    ("card", "PROCESSING"): "authorized", ("card", "CANCELLED"): "voided",
    ("upi", "DELIVERED"): "captured", ("upi", "SHIPPED"): "captured",
    ("upi", "PACKED"): "captured", ("upi", "PICKING"): "authorized",
    ("upi", "PROCESSING"): "authorized", ("upi", "CANCELLED"): "refunded",
}
_SHIPMENT_STATUS = {"DELIVERED": "delivered", "SHIPPED": "shipped", "PACKED": "packed",
                    "PICKING": "picking", "PROCESSING": "pending"}
_EVENTS = {
    "DELIVERED": ("Order_Created", "Payment_Authorized", "Inventory_Locked", "Order_Assigned",
                  "Order_Packed", "Order_Shipped", "Order_Delivered"),
    "SHIPPED": ("Order_Created", "Payment_Authorized", "Inventory_Locked", "Order_Assigned",
                "Order_Packed", "Order_Shipped"),
    "PACKED": ("Order_Created", "Payment_Authorized", "Inventory_Locked", "Order_Assigned",
               "Order_Packed"),
    "PICKING": ("Order_Created", "Payment_Authorized", "Inventory_Locked", "Order_Assigned"),
    "PROCESSING": ("Order_Created", "Payment_Authorized", "Inventory_Locked",
                   "Order_Assigned"),
    "CANCELLED": ("Order_Created", "Order_Cancelled", "Inventory_Released"),
}


Locks = Counter[tuple[str, str]]


def orders(n: int, now: datetime, seed: int = 15) -> Iterator[tuple[Rows, Locks]]:
    """The n orders oldest first, in batches: (rows, soft-locked units per (fc, sku))."""
    rng = random.Random(seed)
    customers_per_shop = max(50, n // ORDERS_PER_CUSTOMER // len(STOREFRONTS))
    start = now - SPACING * n
    ship_to = {"name": "Ananya Sharma", "line1": "12 MG Road", "line2": "",
               "city": "Bengaluru", "region": "KA", "postal_code": "560001", "country": "IN",
               "phone": "+919800000001", "latitude": 12.97, "longitude": 77.6}
    rows, locks = Rows(), Locks()
    for i in range(n):
        at = start + SPACING * i + timedelta(milliseconds=rng.randrange(30_000))
        shop = rng.choices(STOREFRONTS, STOREFRONT_WEIGHTS)[0]
        status = _status_of(i, n, rng)
        method = rng.choices(("card", "upi", "cod"), (60, 25, 15))[0]
        fc_id = FCS[rng.randrange(len(FCS))][0] if status != "CANCELLED" else None
        order_id = ulid("ord", at, rng)
        lines: list[dict[str, Any]] = []
        for line_no in range(1, 2 + (rng.random() < 0.35) + (rng.random() < 0.1)):
            k = rng.randrange(SKUS)
            lines.append({"order_id": order_id, "line_no": line_no, "sku": f"SKU-{k:05d}",
                          "quantity": rng.randint(1, 3),
                          "unit_price_minor": 9_900 + (k * 7919) % 190_000,
                          "weight_grams": 100 + (k * 131) % 2_400})
        subtotal = sum(ln["quantity"] * ln["unit_price_minor"] for ln in lines)
        weight = sum(ln["quantity"] * ln["weight_grams"] for ln in lines)
        fee = 4_900 if weight <= 500 else 9_900
        total = subtotal + fee
        done = status in ("DELIVERED", "SHIPPED", "PACKED")
        pay_state = ("cancelled" if status == "CANCELLED" else "cod_pending"
                     ) if method == "cod" else _PAYMENT[(method, status)]
        if method == "cod" and status == "DELIVERED":
            pay_state = "captured"
        updated = at + timedelta(days=2 if status == "DELIVERED" else 0, minutes=5)
        rows.add("orders", {
            "order_id": order_id, "storefront": shop, "idempotency_key": uuid.UUID(
                int=rng.getrandbits(128)).hex,
            "request_hash": f"{rng.getrandbits(256):064x}",
            "customer_id": f"cust-{rng.randrange(customers_per_shop):07d}",
            "currency": "INR", "subtotal_minor": subtotal, "shipping_fee_minor": fee,
            "total_minor": total, "weight_grams": weight, "ship_to": ship_to,
            "status": status, "inventory_state": "released" if status == "CANCELLED" else "locked",
            "payment_method": method, "payment_state": pay_state,
            "payment_token": f"tok_{order_id[-12:]}" if method == "card" else None,
            "upi_vpa": "ananya@okbank" if method == "upi" else None,
            "upi_intent_id": f"upi_{order_id[4:]}" if method == "upi" else None,
            "upi_intent_uri": None, "upi_expires_at": None,
            "authorization_id": f"auth_{order_id[-12:]}" if method != "cod" else None,
            "authorized_minor": total, "captured_minor": total if done or (
                status == "DELIVERED") else 0,
            "failure_reason": None,
            "cancel_requested": "cancelled by the customer: changed mind"
            if status == "CANCELLED" else None,
            "cancel_reason": "changed mind" if status == "CANCELLED" else None,
            "fc_id": fc_id, "promised_by": at + timedelta(days=3),
            "capture_id": f"cap_{order_id[-12:]}" if done else None,
            "refunded_minor": total if pay_state == "refunded" else 0,
            "settled_at": updated if status == "DELIVERED" and method != "cod" else None,
            "saga_due_at": None, "created_at": at, "updated_at": updated})
        for ln in lines:
            rows.add("order_lines", ln)
        for k, kind in enumerate(_EVENTS[status]):
            rows.add("order_events", {
                "order_id": order_id, "type": kind, "status": status if k == len(
                    _EVENTS[status]) - 1 else "PROCESSING" if k else "PENDING",
                "detail": "", "fc_id": fc_id, "storefront": shop,
                "occurred_at": at + timedelta(minutes=k), "relayed_at": at + timedelta(
                    minutes=k, seconds=1)})
        if fc_id is not None:
            shipment_id = ulid("shp", at, rng)
            sstatus = _SHIPMENT_STATUS[status]
            shipped = status in ("DELIVERED", "SHIPPED")
            rows.add("shipments", {
                "shipment_id": shipment_id, "order_id": order_id, "fc_id": fc_id,
                "status": sstatus, "carrier": "sandbox" if done else None,
                "service": "standard" if done else None,
                "tracking_number": f"SBX{order_id[4:]}" if done else None,
                "weight_grams": weight + 150 if done else None, "box": "M" if done else None,
                "carrier_cost_minor": 6_000 if done else None, "value_minor": subtotal,
                "cod_due_minor": total if method == "cod" else 0,
                "cod_collected_minor": total if method == "cod" and status == "DELIVERED"
                else None, "label_pdf": None, "label_zpl": None, "manifest_id": None,
                "created_at": at, "updated_at": updated,
                "packed_at": at + timedelta(hours=4) if done else None,
                "shipped_at": at + timedelta(hours=6) if shipped else None,
                "delivered_at": updated if status == "DELIVERED" else None})
            for ln in lines:
                picked = ln["quantity"] if status != "PROCESSING" and status != "PICKING" else 0
                rows.add("pick_lines", {
                    "line_id": ulid("pkl", at, rng), "shipment_id": shipment_id,
                    "order_id": order_id, "fc_id": fc_id, "sku": ln["sku"],
                    "gtin": gtin(int(ln["sku"][4:])), "bin": "A-01-1",
                    "quantity": ln["quantity"], "picked": picked, "missing": 0,
                    "task_id": None, "unit_price_minor": ln["unit_price_minor"],
                    "weight_grams": ln["weight_grams"], "short_reported_by": None})
                if status in ("PROCESSING", "PICKING"):
                    rows.add("soft_locks", {"order_id": order_id, "fc_id": fc_id,
                                            "sku": ln["sku"], "quantity": ln["quantity"],
                                            "hard_quantity": 0})
                    locks[(fc_id, ln["sku"])] += ln["quantity"]
        if len(rows.tables["orders"]) >= BATCH:
            yield rows, locks
            rows, locks = Rows(), Locks()
    if rows.tables:
        yield rows, locks


def stock(locks: Locks, now: datetime) -> list[dict[str, Any]]:
    """Every SKU at every FC, its soft locks those of the in-flight orders."""
    return [{"fc_id": fc, "sku": f"SKU-{k:05d}", "on_hand": 10_000,
             "soft_locked": locks[(fc, f"SKU-{k:05d}")], "hard_locked": 0,
             "received_total": 10_000, "bin": f"A-{k % 40:02d}-{k % 7}"}
            for fc, _, _ in FCS for k in range(SKUS)]


# -- writing it -----------------------------------------------------------------------------------

_TABLES = {t.name: t for t in (PRODUCTS, FULFILLMENT_CENTERS, STOCK_LEVELS, ORDERS, ORDER_LINES,
                               ORDER_EVENTS, SHIPMENTS, PICK_LINES, SOFT_LOCKS)}


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):  # SQLAlchemy's SQLite DateTime format, naive UTC
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, dict):
        return json.dumps(v)
    if isinstance(v, bool):
        return int(v)
    return v


def _pg_value(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, dict) else v


class Writer:
    """Bulk rows into one database: executemany per batch on SQLite, COPY on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite") or not url.startswith("postgresql")
        if self.sqlite:
            path = url.removeprefix("sqlite:///")
            self.conn: Any = sqlite3.connect(path, isolation_level=None)
            # A build that fails is thrown away: durability buys nothing here.
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-262144")
        else:
            # autocommit: each batch is its own `with transaction()`.
            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                                        autocommit=True)
            self.conn.execute("SET synchronous_commit = off")

    def write(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """Insert every table's rows in one transaction."""
        if self.sqlite:
            self.conn.execute("BEGIN")
            for name, rows in tables.items():
                cols = list(rows[0])
                sql = (f"INSERT INTO {name} ({', '.join(cols)}) "
                       f"VALUES ({', '.join('?' * len(cols))})")
                self.conn.executemany(sql, ([_sqlite_value(r[c]) for c in cols] for r in rows))
            self.conn.execute("COMMIT")
            return
        with self.conn.transaction(), self.conn.cursor() as cur:
            for name, rows in tables.items():
                cols = list(rows[0])
                with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row([_pg_value(r[c]) for c in cols])

    def finish(self) -> None:
        if self.sqlite:
            self.conn.execute("ANALYZE")
            self.conn.close()
        else:
            self.conn.execute("VACUUM ANALYZE")
            self.conn.close()


def build(url: str, n: int) -> Sample:
    """Migrate an empty database to the bench's revision and fill it with n orders."""
    migrate.upgrade(url, BUILT_AT_REVISION)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    writer = Writer(url)
    writer.write(small_tables(now))
    rng = random.Random(7)
    sample_ids: list[str] = []
    customers: list[str] = []
    all_locks: Locks = Counter()
    written = 0
    t0 = time.perf_counter()
    for rows, locks in orders(n, now):
        writer.write(rows.tables)
        all_locks.update(locks)
        written += len(rows.tables["orders"])
        # Reservoir-free sampling is enough: each batch gives its share of the sample.
        mine = [r for r in rows.tables["orders"] if r["storefront"] == STOREFRONTS[0]]
        take = max(1, 2_000 * len(rows.tables["orders"]) // n)
        sample_ids += [r["order_id"] for r in rng.sample(mine, min(take, len(mine)))]
        customers += [r["customer_id"] for r in rng.sample(mine, min(take, len(mine)))]
        if n >= 100_000:
            print(f"    … {written:>9,} orders ({rows.count():,} rows in the last batch) "
                  f"{time.perf_counter() - t0:5.0f} s", flush=True)
    writer.write({"stock_levels": stock(all_locks, now)})
    writer.finish()
    return Sample(sample_ids, sorted(set(customers)), [f"SKU-{k:05d}" for k in range(SKUS)])


# -- where the databases live ---------------------------------------------------------------------

def _pg_admin() -> psycopg.Connection[Any]:
    return psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)


def _pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def _pg_exists(name: str) -> bool:
    with _pg_admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


def _pg_drop(name: str) -> None:
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(backend: str, n: int, cache: Path, keep_pg: bool, rebuild: bool,
             sqlite_stats: bool = False) -> Iterator[tuple[str, Sample, float | None]]:
    """A database of n orders to run against: (url, sample, seconds the build took or None)."""
    cache.mkdir(parents=True, exist_ok=True)
    meta = cache / f"{backend}-{n}-v{DATA_VERSION}.json"
    built_s: float | None = None
    if backend == "sqlite":
        cached = cache / f"orders-{n}-v{DATA_VERSION}.db"
        if rebuild or not cached.exists() or not meta.exists():
            cached.unlink(missing_ok=True)
            t0 = time.perf_counter()
            partial = cached.with_suffix(".building")
            partial.unlink(missing_ok=True)
            sample = build(f"sqlite:///{partial}", n)
            partial.rename(cached)
            meta.write_text(sample.to_json())
            built_s = time.perf_counter() - t0
        sample = Sample.from_json(meta.read_text())
        with tempfile.TemporaryDirectory(prefix="tote-growth-", dir=cache) as tmp:
            run = Path(tmp) / "run.db"
            shutil.copyfile(cached, run)
            if not sqlite_stats:
                # tote never runs ANALYZE: a deployment's SQLite file has no statistics, and
                # its planner chooses by the schema alone. Measure that.
                lite = sqlite3.connect(run)
                lite.execute("DROP TABLE IF EXISTS sqlite_stat1")
                lite.commit()
                lite.close()
            yield str(run), sample, built_s
        return
    template = f"tote_growth_{n}_v{DATA_VERSION}"
    run_db = f"tote_growth_run_{n}_{os.getpid()}"
    have = not rebuild and keep_pg and _pg_exists(template) and meta.exists()
    try:
        if have:
            with _pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{run_db}" TEMPLATE "{template}"')
        else:
            with _pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{run_db}"')
            t0 = time.perf_counter()
            meta.write_text(build(_pg_url(run_db), n).to_json())
            built_s = time.perf_counter() - t0
            if keep_pg:
                _pg_drop(template)
                with _pg_admin() as conn:
                    conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{run_db}"')
        yield _pg_url(run_db), Sample.from_json(meta.read_text()), built_s
    finally:
        _pg_drop(run_db)


# -- timing the calls -----------------------------------------------------------------------------

CALLS = ("GetOrder", "ListOrders first page", "ListOrders by status", "ListOrders by customer",
         f"ListOrders page {DEEP_PAGE}", "GetStock", "PlaceOrder")
_STATUSES = (common_pb2.ORDER_STATUS_CANCELLED, common_pb2.ORDER_STATUS_PICKING,
             common_pb2.ORDER_STATUS_DELIVERED)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Target:
    """tote serve on one size's database, with a storefront's and a supervisor's clients."""

    n: int
    server: ToteServer
    store: Client
    supervisor: Client
    sample: Sample
    deep_token: str = ""

    def close(self) -> None:
        self.store.close()
        self.supervisor.close()
        self.server.terminate()


def _listing(client: Client, **kw: Any) -> orders_pb2.ListOrdersResponse:
    return client.orders.ListOrders(orders_pb2.ListOrdersRequest(**kw), metadata=client.metadata)


def serve(n: int, url: str, sample: Sample, workdir: Path) -> Target:
    """Migrate the database to head, start tote serve on it and find page DEEP_PAGE's token."""
    t0 = time.perf_counter()
    migrate.upgrade(url)  # the migrations after BUILT_AT_REVISION, on this copy
    print(f"    {n:,}: migrated to head in {time.perf_counter() - t0:.1f} s", flush=True)
    db = Database(url)
    try:
        shop = db.run_write(lambda s: create_token(s, "storefront", STOREFRONTS[0], None))[1]
        boss = db.run_write(lambda s: create_token(s, "supervisor", "growth", None))[1]
    finally:
        db.dispose()
    server = ToteServer(url, workdir, args=["--log-level", "WARNING"]).start()
    target = Target(n, server, Client(server.grpc_address, shop),
                    Client(server.grpc_address, boss), sample)
    token = ""
    for _ in range(DEEP_PAGE - 1):  # walk there once, as a client paging would
        token = _listing(target.supervisor, page_size=PAGE, page_token=token).next_page_token
    assert token, "the list is shorter than the deep page"
    target.deep_token = token
    return target


def _calls(rng: random.Random) -> dict[str, Callable[[Target, int], object]]:
    """Each timed call, made on a target: the i-th of its kind."""
    def pick(seq: list[str]) -> str:
        return seq[rng.randrange(len(seq))]

    return {
        "GetOrder": lambda t, i: t.store.get(pick(t.sample.order_ids)),
        "ListOrders first page": lambda t, i: _listing(t.store, page_size=PAGE),
        "ListOrders by status": lambda t, i: _listing(
            t.store, page_size=PAGE, status=_STATUSES[i % len(_STATUSES)]),
        "ListOrders by customer": lambda t, i: _listing(
            t.store, page_size=PAGE, customer_id=pick(t.sample.customers)),
        f"ListOrders page {DEEP_PAGE}": lambda t, i: _listing(
            t.supervisor, page_size=PAGE, page_token=t.deep_token),
        "GetStock": lambda t, i: t.store.inventory.GetStock(inventory_pb2.GetStockRequest(
            sku=pick(t.sample.skus)), metadata=t.store.metadata),
        # Last: the sagas of the orders it places run in the background of what follows.
        "PlaceOrder": lambda t, i: t.store.orders.PlaceOrder(place_request(
            [(pick(t.sample.skus), 1)], cod(), customer_id=pick(t.sample.customers),
            ship_to=address()), metadata=t.store.metadata),
    }


def measure(targets: list[Target], calls: int) -> dict[int, dict[str, tuple[float, float]]]:
    """(p50, p99) in ms per size and call. The sizes take turns call by call (each round in
    a rotated order), so a burst of load from elsewhere on the machine lands on all of them
    alike instead of on whichever size was being timed then."""
    out: dict[int, dict[str, tuple[float, float]]] = {t.n: {} for t in targets}
    warm_up = min(20, max(1, calls // 5))  # unmeasured: connections, caches, compiled SQL
    for name, call in _calls(random.Random(1)).items():
        took: dict[int, list[float]] = {t.n: [] for t in targets}
        for i in range(warm_up + calls):
            k = i % len(targets)
            for t in targets[k:] + targets[:k]:
                t0 = time.perf_counter()
                call(t, i)
                if i >= warm_up:
                    took[t.n].append(time.perf_counter() - t0)
        for n, values in took.items():
            out[n][name] = (statistics.median(values) * 1000, _pct(values, 0.99) * 1000)
    return out


def report(results: dict[str, dict[int, dict[str, tuple[float, float]]]],
           built: dict[str, dict[int, float | None]]) -> None:
    """The table: p50/p99 per call and size, and the p99 ratio largest ÷ smallest size."""
    for backend, by_size in results.items():
        sizes = sorted(by_size)
        print(f"\n{backend}: p50 / p99 in ms, one call at a time")
        head = f"{'call':<26}" + "".join(f"{n:>18,}" for n in sizes)
        if len(sizes) > 1:
            head += f"   p99 {sizes[-1]:,} ÷ {sizes[0]:,}"
        print(head)
        for call in CALLS:
            cells = "".join(f"{by_size[n][call][0]:>8.2f} / {by_size[n][call][1]:>7.2f}"
                            for n in sizes)
            line = f"{call:<26}{cells}"
            if len(sizes) > 1:
                ratio = by_size[sizes[-1]][call][1] / by_size[sizes[0]][call][1]
                line += f"   {ratio:5.2f}{'  over 1.5' if ratio > 1.5 else ''}"
            print(line)
        print("built in " + ", ".join(
            f"{n:,}: {built[backend][n]:.0f} s" if built[backend][n] is not None
            else f"{n:,}: cached" for n in sizes))


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="orders per database, comma-separated")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per RPC")
    parser.add_argument("--cache", type=Path,
                        default=Path.home() / ".cache" / "tote-bench" / "growth")
    parser.add_argument("--keep-pg", action="store_true",
                        help="keep each PostgreSQL build as a template for later runs")
    parser.add_argument("--rebuild", action="store_true", help="ignore cached databases")
    parser.add_argument("--sqlite-stats", action="store_true",
                        help="keep SQLite's ANALYZE statistics (tote never makes any)")
    parser.add_argument("--build-only", action="store_true",
                        help="build (and cache) the databases, time nothing")
    args = parser.parse_args(None if argv is None else list(argv))
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if min(sizes) < DEEP_PAGE * PAGE:
        parser.error(f"sizes start at {DEEP_PAGE * PAGE}: page {DEEP_PAGE} must exist")
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: dict[str, dict[int, dict[str, tuple[float, float]]]] = {}
    built: dict[str, dict[int, float | None]] = {}
    for backend in backends:
        with ExitStack() as stack:
            targets = []
            for n in sizes:
                print(f"{backend}, {n:,} orders", flush=True)
                url, sample, built_s = stack.enter_context(database(
                    backend, n, args.cache, args.keep_pg, args.rebuild, args.sqlite_stats))
                if built_s is not None:
                    print(f"    built in {built_s:.0f} s", flush=True)
                built.setdefault(backend, {})[n] = built_s
                if not args.build_only:
                    work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                    targets.append(serve(n, url, sample, work))
                    stack.callback(targets[-1].close)
            if targets:
                print(f"    timing {args.calls} calls of each kind per size, sizes in turn",
                      flush=True)
                results[backend] = measure(targets, args.calls)
    if not args.build_only:
        report(results, built)


if __name__ == "__main__":
    main()
