"""No database transaction stays open across a call to the payment gateway or the carrier.

A transaction left open while an outside party answers holds its locks and keeps vacuum from
its work for as long as that party takes (issue 15, "A transaction left open"). tote runs here
with its gateway and carrier behind a proxy of the test's own that holds every call until the
database shows no tote transaction begun before the call arrived: one that spans the call can
never end while it is held, so the call is held until tote itself gives up on it (its gateway
timeout), and the test fails naming the call and the transaction. A card order is driven
through the calls of its life: authorization (the order saga), capture and carrier booking
(packing, after picking).

Checked by behaviour, not by reading the code: whatever path a future change takes (a session
held across an `await`, a job calling out synchronously from a worker thread), the database's
own view of open transactions is what matters.
"""

from __future__ import annotations

import http.server
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import migrated_pg_database
from tests.harness import Client, ToteServer, card, free_port, sandbox_card, unique
from tests.integration.test_packing import pick
from tests.pg_probe import admin
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PROCESSING, CANCELLED, PACKED = (pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED,
                                 pb.ORDER_STATUS_PACKED)
HOLD_AT_MOST_S = 60  # only if tote never gives up on a call (it does after its gateway timeout)


class HoldingProxy:
    """An HTTP proxy in front of the sandbox that forwards each call only once no tote
    transaction on `datname` begun before the call arrived is still open."""

    def __init__(self, datname: str) -> None:
        self.datname = datname
        self.upstream = ""
        self.calls: list[str] = []
        self.spanned: list[str] = []  # the calls a transaction stayed open across
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                call = f"{self.command} {self.path}"
                if not proxy.held_until_no_transaction_spans(call, self.connection):
                    self.close_connection = True
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                answer = httpx.request(self.command, proxy.upstream + self.path,
                                       content=body, headers=headers, timeout=30)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection",
                                           "content-encoding"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def held_until_no_transaction_spans(self, call: str, client: socket.socket) -> bool:
        """Hold the call until every tote transaction begun before it has ended: True; or
        until tote gave up on the call (or HOLD_AT_MOST_S) with one still open: False."""
        with admin() as probe:
            row = probe.execute("SELECT clock_timestamp()").fetchone()
            assert row is not None
            arrived = row[0]
            deadline = time.monotonic() + HOLD_AT_MOST_S
            while True:
                open_before = probe.execute(
                    "SELECT pid, xact_start, state, query FROM pg_stat_activity "
                    "WHERE datname = %s AND application_name = 'tote' "
                    "AND xact_start < %s", (self.datname, arrived)).fetchall()
                if not open_before:
                    with self._lock:
                        self.calls.append(call)
                    return True
                if _gone(client) or time.monotonic() > deadline:
                    with self._lock:
                        self.spanned.append(f"{call} (open across it: {open_before})")
                    return False
                time.sleep(0.02)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _gone(client: socket.socket) -> bool:
    """Whether the caller closed its connection (gave up waiting)."""
    readable, _, _ = select.select([client], [], [], 0)
    return bool(readable) and client.recv(1, socket.MSG_PEEK) == b""


@pytest.fixture(scope="module")
def database(pg_server) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A migrated database of this module's own: (URL, name)."""
    with migrated_pg_database(pg_server) as url:
        yield url, url.rsplit("/", 1)[1]


def test_no_transaction_is_open_across_a_gateway_or_carrier_call(database, tmp_path):  # type: ignore[no-untyped-def]
    url, name = database
    proxy = HoldingProxy(name)
    tote = ToteServer(url, tmp_path, args=["--gateway-url", proxy.url,
                                           "--carrier-url", proxy.url])
    try:
        tote.start()
        proxy.upstream = tote.sandbox_url  # the sandbox tote runs beside itself
        admin_client = tote.client(tote.token("admin", "ops"))
        shop = tote.client(tote.token("storefront", "shop-a"))
        admin_client.fc("FC-BLR")
        packer = tote.client(tote.token("picker", "p1", "FC-BLR"))
        clients: list[Client] = [admin_client, shop, packer]
        sku = unique("HELD")
        admin_client.product(sku, price_minor=49_900, weight_grams=350)
        admin_client.receive("FC-BLR", sku, 5)

        placed = shop.place([(sku, 2)], card(sandbox_card(tote.sandbox_url)))
        order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED}, timeout_s=120)
        assert not proxy.spanned, proxy.spanned
        assert order.status == PROCESSING, order.cancel_reason
        pick(tote, packer, placed.order_id)
        packed = packer.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
            order_id=placed.order_id, weight_grams=2 * 350 + 250 + 20, box="M"),
            metadata=packer.metadata, timeout=120).order
        assert packed.status == PACKED

        assert not proxy.spanned, proxy.spanned
        # The calls of the order's life all went through the proxy (so all were checked).
        assert any(c.startswith("POST /v1/authorizations") for c in proxy.calls), proxy.calls
        assert any("/captures" in c or "/capture" in c for c in proxy.calls), proxy.calls
        assert any(c.startswith("POST /v1/shipments") for c in proxy.calls), proxy.calls
        for client in clients:
            client.close()
    finally:
        tote.terminate()
        proxy.stop()
