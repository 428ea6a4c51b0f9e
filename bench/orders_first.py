"""Orders first, in seconds: how fast sagas start while a storefront places orders.

    .venv/bin/python bench/orders_first.py [--min-rate 2] [--orders 40] [--gap-ms 40]

The speed side of tests/integration/test_orders_first.py (which asserts order only) against a
real `tote serve` on SQLite: (1) a storefront placing one COD order every --gap-ms: how many
of its orders their sagas had worked when the last was placed (they should keep pace, far
above --min-rate); (2) four checkouts placing back to back for a few seconds: sagas started a
second while they ran, beside --min-rate. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.persistence import migrate  # noqa: E402
from tests.harness import ToteServer, cod, unique  # noqa: E402
from tests.integration.test_orders_first import Storefront, _worked  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min-rate", type=float, default=2.0)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--gap-ms", type=float, default=40.0)
    parser.add_argument("--rush-s", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "tote.db")
        migrate.upgrade(db)
        tote = ToteServer(db, Path(tmp), args=["--saga-min-rate", str(args.min_rate)]).start()
        try:
            admin = tote.client(tote.token("admin", "bench"))
            admin.fc("FC-BLR")
            sku = unique("BENCH")
            admin.product(sku)
            admin.receive("FC-BLR", sku, 100_000)
            shop = tote.client(tote.token("storefront", "bench"))

            placed = []
            started = time.monotonic()
            for _ in range(args.orders):
                placed.append(shop.place([(sku, 1)], cod()).order_id)
                time.sleep(args.gap_ms / 1000)  # the next customer's checkout
            elapsed = time.monotonic() - started
            worked = _worked(db, placed)
            print(f"gaps of {args.gap_ms:.0f} ms: {worked}/{len(placed)} orders worked when the "
                  f"last was placed ({elapsed:.2f} s; the minimum rate alone: "
                  f"{1 + args.min_rate * elapsed:.0f})")

            storefront = Storefront(shop, sku)
            started = time.monotonic()
            storefront.start()
            time.sleep(args.rush_s)
            rush = list(storefront.placed)
            elapsed = time.monotonic() - started
            worked = _worked(db, rush)
            storefront.stop()
            print(f"back to back: {len(rush)} orders in {elapsed:.2f} s, {worked} sagas started "
                  f"({worked / elapsed:.1f}/s; --saga-min-rate {args.min_rate:g})")
        finally:
            tote.terminate()


if __name__ == "__main__":
    main()
