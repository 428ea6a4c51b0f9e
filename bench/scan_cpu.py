"""ScanItem's service path in-process: CPU time per picking.scan_item call (each rolled back).

    .venv/bin/python bench/scan_cpu.py [N]

The service path alone (no gRPC, no writer process): one task of 20 lines, each scan in its
own transaction, rolled back so every call sees the same rows. The median is what to compare
(before/after a change, back to back): it is CPU time, so other load on the machine matters
less than for bench/fulfillment.py.
"""
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from core.domain.gtin import gs1_check_digit  # noqa: E402
from core.persistence import migrate  # noqa: E402
from core.persistence.db import Database  # noqa: E402
from core.persistence.models import Base  # noqa: E402
from core.service import picking  # noqa: E402

T = Base.metadata.tables
N = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
now = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
folder = tempfile.mkdtemp()
url = str(Path(folder) / "tote.db")
migrate.upgrade(url, "head")
db = Database(url, sqlite_synchronous="OFF")
SKUS = 20
gtins = []
for i in range(SKUS):
    body = f"400638{i:06d}"
    gtins.append(body + str(gs1_check_digit(body)))
with db.write() as s:
    s.execute(insert(T["fulfillment_centers"]).values(
        fc_id="FC1", name="FC1", latitude=0.0, longitude=0.0, cutoff_hour=15,
        daily_capacity=1000, address=None, confirm_bin_scan=False))
    for i, g in enumerate(gtins):
        s.execute(insert(T["products"]).values(sku=f"SKU{i}", name=f"Item {i}", gtin=g,
                                               unit_price_minor=100, currency="INR",
                                               weight_grams=100, updated_at=now))
        s.execute(insert(T["stock_levels"]).values(fc_id="FC1", sku=f"SKU{i}", on_hand=10**6,
                                                   soft_locked=10**6, hard_locked=0,
                                                   received_total=10**6, bin=f"A-{i:02d}-01"))
    order = {c.key: None for c in T["orders"].columns}
    order.update(order_id="ORD1", storefront="shop", idempotency_key="k", request_hash="h",
                 customer_id="c", currency="INR", subtotal_minor=0, shipping_fee_minor=0,
                 total_minor=0, weight_grams=0, ship_to={}, status="PICKING",
                 inventory_state="soft_locked", payment_method="card",
                 payment_state="authorized", authorized_minor=0, captured_minor=0,
                 refunded_minor=0, fc_id="FC1", created_at=now, updated_at=now)
    s.execute(insert(T["orders"]).values(**{k: v for k, v in order.items() if v is not None}))
    s.execute(insert(T["shipments"]).values(shipment_id="SH1", order_id="ORD1", fc_id="FC1",
                                            status="picking", value_minor=0, cod_due_minor=0,
                                            created_at=now, updated_at=now))
    s.execute(insert(T["pick_tasks"]).values(task_id="PT1", fc_id="FC1", picker="p",
                                             status="open", created_at=now, touched_at=now,
                                             tote_no=1))
    for i, g in enumerate(gtins):
        s.execute(insert(T["pick_lines"]).values(
            line_id=f"PL{i:02d}", shipment_id="SH1", order_id="ORD1", fc_id="FC1",
            sku=f"SKU{i}", gtin=g, bin=f"A-{i:02d}-01", quantity=10**6, picked=0, missing=0,
            task_id="PT1", unit_price_minor=100, weight_grams=100))
        s.execute(insert(T["soft_locks"]).values(order_id="ORD1", fc_id="FC1", sku=f"SKU{i}",
                                                 quantity=10**6, hard_quantity=0))

times = []
for i in range(N):
    with Session(db.write_engine) as s:
        s.connection()
        t0 = time.process_time_ns()
        reply = picking.scan_item(s, "PT1", gtins[i % SKUS], f"scan{i}", "badge", now, False)
        times.append(time.process_time_ns() - t0)
        s.rollback()
assert reply["line"]["picked"] == 1, reply
times = times[N // 10:]
print(f"scan_item CPU per call: median {statistics.median(times) / 1e3:.1f} µs, "
      f"mean {statistics.fmean(times) / 1e3:.1f} µs over {len(times)}")
db.dispose()
shutil.rmtree(folder)
