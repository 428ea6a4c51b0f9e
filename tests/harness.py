"""A real `tote serve` (and sandbox) in a child process, and a gRPC client for it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx

from core.persistence.db import Database
from core.service.tokens import create_token
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
    shipping_pb2_grpc,
)

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_SECRET = "test-webhook-secret"
_READY = re.compile(r"gRPC on (\S+?), webhooks on (\S+?)(?:, sandbox on (\S+?))? \(")
# --metrics-listen: printed on a line of its own before the ready line.
_METRICS = re.compile(r"tote metrics on (\S+)")


# Every child started through this module, until it is stopped: the suite's autouse fixture
# kills whatever a test left running (a failed assertion skips a test's own teardown), so one
# failure never surfaces again as a stray process in a later test.
_RUNNING: set[ToteServer | SandboxProcess] = set()


def running_children() -> set[ToteServer | SandboxProcess]:
    return set(_RUNNING)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Pump(threading.Thread):
    """Copies a child's output to a file and remembers the lines (so pipes never fill up)."""

    def __init__(self, stream, path: Path) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.stream, self.path, self.lines = stream, path, []
        self.start()

    def run(self) -> None:
        with self.path.open("a") as out:
            for line in self.stream:
                self.lines.append(line)
                out.write(line)
                out.flush()


@dataclass(eq=False)
class ToteServer:
    """`tote serve` as a child process on loopback ports."""

    db_url: str
    workdir: Path
    args: list[str] = field(default_factory=list)
    sandbox: bool = True
    webhook_port: int = 0
    webhook_secret: str | None = WEBHOOK_SECRET  # None: no flag (the environment's, or none)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    grpc_address: str = ""
    webhook_url: str = ""
    sandbox_url: str = ""
    metrics_url: str = ""  # http://HOST:PORT/metrics with --metrics-listen
    # What `python -m` runs: a test's own launcher may wrap the CLI (tests/outbox_serve.py).
    module: str = "server"

    @property
    def log_path(self) -> Path:
        return self.workdir / "serve.log"

    def start(self, timeout_s: float = 60) -> ToteServer:
        cmd = [sys.executable, "-m", self.module, "serve", "--db", self.db_url,
               "--listen", "127.0.0.1:0", "--webhook-listen", f"127.0.0.1:{self.webhook_port}",
               "--log-level", "INFO", *self.args]
        if self.webhook_secret is not None:
            cmd += ["--webhook-secret", self.webhook_secret]
        if self.sandbox:
            cmd += ["--sandbox", "--sandbox-listen", "127.0.0.1:0"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env)
        _RUNNING.add(self)
        pump = self._pump = _Pump(self.proc.stdout, self.log_path)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(pump.lines):
                m = _READY.search(line)
                if m:
                    self.grpc_address, self.webhook_url = m.group(1), m.group(2)
                    self.sandbox_url = m.group(3) or self.sandbox_url
                    for earlier in pump.lines:
                        found = _METRICS.search(earlier)
                        if found:
                            self.metrics_url = found.group(1)
                    return self
            if self.proc.poll() is not None:
                self._reap()
                raise RuntimeError(f"tote serve exited:\n{''.join(pump.lines)}")
            time.sleep(0.05)
        self.kill()  # (reaps the pipe too)
        raise RuntimeError(f"tote serve did not get ready:\n{''.join(pump.lines)}")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a power cut of the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reap()

    def terminate(self, timeout_s: float = 30) -> int:
        """SIGTERM and wait: the graceful shutdown path."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise RuntimeError(f"tote serve did not stop within {timeout_s} s of SIGTERM; "
                               f"see {self.log_path}") from None
        finally:
            self._reap()

    def _reap(self) -> None:
        _RUNNING.discard(self)
        pump = getattr(self, "_pump", None)
        if pump is not None:
            pump.join(10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def token(self, role: str, name: str = "", fc_id: str = "") -> str:
        db = Database(self.db_url)
        try:
            return db.run_write(lambda s: create_token(s, role, name, fc_id))[1]
        finally:
            db.dispose()

    def client(self, token: str | None) -> Client:
        return Client(self.grpc_address, token)


@dataclass(eq=False)
class SandboxProcess:
    """`tote sandbox` alone (it outlives tote serve in the crash tests)."""

    workdir: Path
    notify_url: str
    latency_ms: int = 0
    proc: subprocess.Popen[str] | None = None
    url: str = ""

    def start(self) -> SandboxProcess:
        port = free_port()
        cmd = [sys.executable, "-m", "server", "sandbox", "--listen", f"127.0.0.1:{port}",
               "--notify-url", self.notify_url, "--webhook-secret", WEBHOOK_SECRET,
               "--latency-ms", str(self.latency_ms)]
        self.proc = subprocess.Popen(cmd, cwd=self.workdir, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        _RUNNING.add(self)
        self._pump = _Pump(self.proc.stdout, self.workdir / "sandbox.log")
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("tote sandbox did not start")

    def stop(self) -> None:
        _RUNNING.discard(self)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.proc is not None and self.proc.stdout is not None:
            self._pump.join(10)
            self.proc.stdout.close()


class Client:
    """tote.v1 stubs that send the bearer token."""

    def __init__(self, address: str, token: str | None) -> None:
        self.channel = grpc.insecure_channel(address)
        self.metadata = () if token is None else (("authorization", f"Bearer {token}"),)
        self.orders = orders_pb2_grpc.OrderServiceStub(self.channel)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(self.channel)
        self.inventory = inventory_pb2_grpc.InventoryServiceStub(self.channel)
        self.fulfillment = fulfillment_pb2_grpc.FulfillmentServiceStub(self.channel)
        self.shipping = shipping_pb2_grpc.ShippingServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    # -- conveniences for the scenarios -------------------------------------------------------

    def fc(self, fc_id: str, lat: float = 12.97, lon: float = 77.59) -> None:
        self.fulfillment.UpsertFulfillmentCenter(fulfillment_pb2.UpsertFulfillmentCenterRequest(
            fc=common_pb2.FulfillmentCenter(fc_id=fc_id, name=fc_id, latitude=lat,
                                            longitude=lon, cutoff_hour=16,
                                            daily_capacity=1000, address=fc_address(fc_id))),
            metadata=self.metadata)

    def product(self, sku: str, price_minor: int = 49_900, weight_grams: int = 350,
                gtin: str = "4006381333931") -> None:
        self.catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(product=common_pb2.Product(
            sku=sku, name=f"Item {sku}", gtin=gtin,
            unit_price=common_pb2.Money(amount_minor=price_minor, currency="INR"),
            weight_grams=weight_grams)), metadata=self.metadata)

    def receive(self, fc_id: str, sku: str, quantity: int) -> None:
        self.inventory.ReceiveStock(inventory_pb2.ReceiveStockRequest(
            fc_id=fc_id, sku=sku, quantity=quantity, bin="A-01-1"), metadata=self.metadata)

    def stock(self, sku: str) -> tuple[int, int, int]:
        """(on_hand, soft_locked, available) summed over FCs."""
        levels = self.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku),
                                         metadata=self.metadata).levels
        return (sum(x.on_hand for x in levels), sum(x.soft_locked for x in levels),
                sum(x.available for x in levels))

    def place(self, lines: list[tuple[str, int]], payment: common_pb2.PaymentMethod,
              key: str | None = None, **kw) -> common_pb2.Order:  # type: ignore[no-untyped-def]
        return self.orders.PlaceOrder(place_request(lines, payment, key, **kw),
                                      metadata=self.metadata)

    def get(self, order_id: str) -> common_pb2.Order:
        return self.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id),
                                    metadata=self.metadata)

    def wait_status(self, order_id: str, statuses: set[int], timeout_s: float = 30
                    ) -> common_pb2.Order:
        deadline = time.monotonic() + timeout_s
        while True:
            order = self.get(order_id)
            if order.status in statuses or time.monotonic() > deadline:
                return order
            time.sleep(0.05)

    def wait_payment_state(self, order_id: str, states: set[str], timeout_s: float = 30
                           ) -> common_pb2.Order:
        """GetOrder until its payment is in one of states; at the deadline, the order as it is."""
        deadline = time.monotonic() + timeout_s
        while True:
            order = self.get(order_id)
            if order.payment.state in states or time.monotonic() > deadline:
                return order
            time.sleep(0.05)

    def events(self, order_id: str, timeout_s: float = 30) -> list[common_pb2.OrderEvent]:
        """WatchOrder until the stream ends (CANCELLED/DELIVERED) or the timeout."""
        out = []
        stream = self.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order_id),
                                        metadata=self.metadata, timeout=timeout_s)
        try:
            for event in stream:
                out.append(event)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
        return out


def address(**kw) -> common_pb2.Address:  # type: ignore[no-untyped-def]
    base = dict(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru", region="KA",
                postal_code="560001", country="IN", phone="+919800000001",
                latitude=12.97, longitude=77.6)
    base.update(kw)
    return common_pb2.Address(**base)


def fc_address(fc_id: str) -> common_pb2.Address:
    """A return address for a test FC (labels print it as the sender)."""
    return common_pb2.Address(name=f"tote {fc_id}", line1="Plot 7, KIADB Industrial Area",
                              city="Bengaluru", region="KA", postal_code="562149",
                              country="IN", phone="+918000000000")


def card(token: str) -> common_pb2.PaymentMethod:
    return common_pb2.PaymentMethod(card=common_pb2.CardPayment(token=token))


def upi(vpa: str = "ananya@okbank") -> common_pb2.PaymentMethod:
    return common_pb2.PaymentMethod(upi=common_pb2.UpiPayment(vpa=vpa))


def cod() -> common_pb2.PaymentMethod:
    return common_pb2.PaymentMethod(cod=common_pb2.CashOnDelivery())


def place_request(lines, payment, key=None, **kw) -> orders_pb2.PlaceOrderRequest:  # type: ignore[no-untyped-def]
    return orders_pb2.PlaceOrderRequest(
        idempotency_key=key or uuid.uuid4().hex, customer_id=kw.pop("customer_id", "cust-1"),
        lines=[common_pb2.OrderLine(sku=s, quantity=q) for s, q in lines],
        ship_to=kw.pop("ship_to", address()), payment=payment,
        currency=kw.pop("currency", "INR"), **kw)


def sandbox_card(sandbox_url: str, number: str = "4242424242424242") -> str:
    """Tokenize a test card at the sandbox, as a storefront's checkout page would."""
    r = httpx.post(f"{sandbox_url}/v1/tokens",
                   json={"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"})
    r.raise_for_status()
    return r.json()["token"]


def ledger(sandbox_url: str, reference: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    params = {"reference": reference} if reference else None
    return httpx.get(f"{sandbox_url}/v1/ledger", params=params).json()["entries"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
