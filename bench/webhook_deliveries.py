"""Storefront webhook deliveries per second from a real `tote serve` to a local receiver.

    .venv/bin/python bench/webhook_deliveries.py [--orders 300] [--db PATH|postgresql://…]

(Issue 16, part E's delivery figure. bench/events.py was not on this branch when this was
written; this script stands alone and its `measure()` can be called from there.)

`tote serve --sandbox` runs as a child process with a signing key and --webhooks-allow-private;
the receiver is tests/webhook_receiver.py's (http.server, a thread per connection, answering
200). First --orders COD orders are placed with no endpoint registered and their sagas left to
settle, so their events exist and no delivery does. Then one endpoint is registered and every
event of those orders is fanned out to it in one transaction (what the outbox's "webhooks"
consumer does for new events), and the clock runs from that commit to the last delivery
received: each delivery signed, POSTed, answered and its attempt recorded. Events of one order
go one after another (order per order), so the orders' count bounds the concurrency. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.persistence import migrate  # noqa: E402
from core.persistence.db import Database  # noqa: E402
from core.persistence.repos import events as event_repo  # noqa: E402
from core.service import webhooks  # noqa: E402
from tests.harness import ToteServer, cod, unique  # noqa: E402
from tests.webhook_receiver import Receiver, wait_for  # noqa: E402
from tote.v1 import webhooks_pb2 as pb  # noqa: E402
from tote.v1 import webhooks_pb2_grpc  # noqa: E402

KEY = "bench-signing-key-" + "k" * 32


def measure(db_url: str, workdir: Path, orders: int) -> dict[str, float]:
    """{"deliveries", "seconds", "per_second"} for `orders` orders' events to one endpoint."""
    server = ToteServer(db_url, workdir, args=["--webhooks-allow-private"],
                        env={"TOTE_WEBHOOK_SIGNING_KEY": KEY}).start()
    receiver = Receiver().start()
    try:
        admin = server.client(server.token("admin", "ops"))
        fc, sku = unique("FC"), unique("SKU")
        admin.fc(fc)
        admin.product(sku)
        admin.receive(fc, sku, orders * 2)
        shop_name = unique("shop")
        shop = server.client(server.token("storefront", shop_name))
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda _: shop.place([(sku, 1)], cod()).order_id,
                                range(orders)))
        wait_for("every order assigned", lambda: all(shop.get(i).fc_id for i in ids), 300)
        hooks = webhooks_pb2_grpc.WebhookServiceStub(shop.channel)
        path = f"/ok/{shop_name}"
        hooks.CreateEndpoint(pb.CreateEndpointRequest(url=receiver.url + path),
                             metadata=shop.metadata)
        db = Database(db_url)
        try:
            events = db.run_read(lambda s: [e for i in ids for e in event_repo.of_order(s, i)])
            started = time.perf_counter()
            db.run_write(lambda s: webhooks.fan_out(s, events, datetime.now(UTC)))
        finally:
            db.dispose()
        wait_for("every delivery", lambda: len(receiver.at(path)) >= len(events), 600)
        seconds = time.perf_counter() - started
        return {"deliveries": len(events), "seconds": seconds,
                "per_second": len(events) / seconds}
    finally:
        receiver.stop()
        server.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--db", help="a database URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tote-bench-hooks-") as tmp:
        url = args.db or str(Path(tmp) / "tote.db")
        migrate.upgrade(url)
        result = measure(url, Path(tmp), args.orders)
    print(f"{result['deliveries']} deliveries in {result['seconds']:.2f} s: "
          f"{result['per_second']:.0f} deliveries/s (one endpoint, {args.orders} orders)")


if __name__ == "__main__":
    main()
