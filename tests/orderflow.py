"""Orders flowing from a few client threads while something happens to the database, and
what must hold afterwards (tests/integration/test_db_outage.py, test_db_failover.py).

Each thread places orders (card, declined card, COD) and reads them back, every call with a
deadline, and records each call's status code. Every few calls use a token no call has used
before, so the server must look it up in the database (the auth path) during an outage too.
"""

from __future__ import annotations

import collections
import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc
from sqlalchemy import select

from core.persistence.db import Database
from core.persistence.models import Order
from core.service.tokens import create_token
from tests.harness import ROOT, Client, ToteServer, card, cod, place_request, sandbox_card, unique
from tote.v1 import inventory_pb2, orders_pb2

DEADLINE_S = 15.0  # every call's: it only catches a hang (the machine is shared)
ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}
FINAL = ("PROCESSING", "CANCELLED")


@dataclass
class Flow:
    """The calls made while orders flowed, and what they answered."""

    server: ToteServer
    sku: str
    tokens: list[str]  # storefront tokens, each used by one call only (popped)
    warm: str  # a storefront token used by every other call
    card_token: str
    declined_token: str
    codes: collections.Counter[grpc.StatusCode] = field(default_factory=collections.Counter)
    # Status codes other than OK/UNAVAILABLE, with their messages (the test's failure text).
    wrong: list[tuple[str, str, str]] = field(default_factory=list)
    # Messages of UNAVAILABLE answers (each must be one a person can act on).
    unavailable: set[str] = field(default_factory=set)
    placed: dict[str, str] = field(default_factory=dict)  # idempotency key → order id (OK)
    # PlaceOrder requests answered UNAVAILABLE, by key (retried as they were, at the end).
    unanswered: dict[str, orders_pb2.PlaceOrderRequest] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _calls: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _since: dict[grpc.StatusCode, int] = field(default_factory=collections.Counter)

    def _token(self) -> str:
        with self._lock:
            self._calls += 1
            if self._calls % 3 == 0 and self.tokens:
                return self.tokens.pop()
        return self.warm

    def _record(self, method: str, call: Callable[[], object]) -> object | None:
        try:
            answer = call()
            code, message = grpc.StatusCode.OK, ""
        except grpc.RpcError as exc:
            answer, code, message = None, exc.code(), exc.details() or ""
        with self._lock:
            self.codes[code] += 1
            self._since[code] += 1
            if code not in ALLOWED:
                self.wrong.append((method, code.name, message))
            elif code == grpc.StatusCode.UNAVAILABLE:
                self.unavailable.add(message)
        return answer

    def one_order(self, i: int) -> None:
        """Place an order, read it back, look at the stock: three calls."""
        client = Client(self.server.grpc_address, self._token())
        try:
            key = f"flow-{unique('K')}"
            payment = (cod() if i % 4 == 0 else
                       card(self.declined_token if i % 7 == 0 else self.card_token))
            request = place_request([(self.sku, 1)], payment, key)
            order = self._record("PlaceOrder", lambda: client.orders.PlaceOrder(
                request, metadata=client.metadata, timeout=DEADLINE_S))
            with self._lock:
                if order is not None:
                    self.placed[key] = order.order_id  # type: ignore[attr-defined]
                else:
                    self.unanswered[key] = request
            if order is not None:
                self._record("GetOrder", lambda: client.orders.GetOrder(
                    orders_pb2.GetOrderRequest(order_id=order.order_id),  # type: ignore[attr-defined]
                    metadata=client.metadata, timeout=DEADLINE_S))
            self._record("GetStock", lambda: client.inventory.GetStock(
                inventory_pb2.GetStockRequest(sku=self.sku), metadata=client.metadata,
                timeout=DEADLINE_S))
        finally:
            client.close()

    @contextlib.contextmanager
    def flowing(self, threads: int = 3) -> Iterator[None]:
        """Orders placed from `threads` threads for the body's duration; stopped and joined
        however the body ends (a worker's own exception is raised here)."""
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            i = n
            try:
                while not self._stop.is_set():
                    self.one_order(i)
                    i += threads
            except BaseException as exc:  # the test re-raises it
                errors.append(exc)

        workers = [threading.Thread(target=worker, args=(n,), daemon=True,
                                    name=f"order-flow-{n}") for n in range(threads)]
        for t in workers:
            t.start()
        try:
            yield
        finally:
            self._stop.set()
            for t in workers:
                t.join(4 * DEADLINE_S)  # a call in flight ends by its deadline
        if errors:
            raise errors[0]
        assert not any(t.is_alive() for t in workers), "a client thread hung past its deadline"

    def wait_for(self, code: grpc.StatusCode, count: int, what: str,
                 timeout_s: float = 120) -> None:
        """Wait until `count` more calls answered `code` (counted from the last wait)."""
        with self._lock:
            self._since.clear()
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                if self._since[code] >= count:
                    return
                if self.wrong:
                    raise AssertionError(f"calls answered other than OK/UNAVAILABLE: "
                                         f"{self.wrong[:5]}")
            assert time.monotonic() < deadline, f"{what}: no {count} {code.name} answers " \
                f"within {timeout_s} s (answers so far: {dict(self.codes)})"
            time.sleep(0.05)


def start_flow(server: ToteServer, tokens: int = 300) -> Flow:
    """An FC with stock, a product and storefront tokens; returns the Flow (not yet run)."""
    admin = server.client(server.token("admin", "ops"))
    try:
        admin.fc("FC-BLR")
        sku = unique("OUTAGE")
        admin.product(sku)
        admin.receive("FC-BLR", sku, 100_000)
    finally:
        admin.close()
    db = Database(server.db_url)
    try:
        made = db.run_write(lambda s: [create_token(s, "storefront", "shop-a", "")[1]
                                       for _ in range(tokens + 1)])
    finally:
        db.dispose()
    assert server.sandbox_url
    return Flow(server, sku, made[1:], made[0], sandbox_card(server.sandbox_url),
                sandbox_card(server.sandbox_url, "4000000000000002"))


def assert_outcome(flow: Flow, url: str, *, outage: bool = True) -> None:
    """After the database came back: the answers were OK or UNAVAILABLE only, each
    UNAVAILABLE said what to do, a retry of every unanswered PlaceOrder (same key) succeeds,
    every acknowledged order is in the database, every saga ends, `tote check` is clean."""
    assert not flow.wrong, f"calls answered other than OK/UNAVAILABLE: {flow.wrong[:5]}"
    assert not outage or flow.codes[grpc.StatusCode.UNAVAILABLE] > 0, (
        f"nothing answered UNAVAILABLE: did the database fail at all? {dict(flow.codes)}")
    for message in flow.unavailable:
        assert "retry" in message, f"an UNAVAILABLE answer a person cannot act on: {message!r}"
        for leak in ("SELECT", "INSERT", "UPDATE", "token_hash", "psycopg", "sqlalchemy"):
            assert leak not in message, f"an UNAVAILABLE answer leaks {leak}: {message!r}"
    # A client retries what went unanswered with the same idempotency key: it gets its order
    # (placed once, whether or not the first attempt committed).
    client = flow.server.client(flow.warm)
    try:
        for key, request in sorted(flow.unanswered.items()):
            deadline = time.monotonic() + 60
            while True:
                try:
                    order = client.orders.PlaceOrder(request, metadata=client.metadata,
                                                     timeout=DEADLINE_S)
                    break
                except grpc.RpcError as exc:
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
                    assert time.monotonic() < deadline, f"no answer for {key}"
                    time.sleep(0.2)
            flow.placed[key] = order.order_id
    finally:
        client.close()
    db = Database(url)
    try:
        deadline = time.monotonic() + 180
        while True:
            with db.read() as s:
                rows = dict(s.execute(select(Order.order_id, Order.status).where(
                    Order.order_id.in_(list(flow.placed.values())))).all())
            missing = set(flow.placed.values()) - set(rows)
            assert not missing, f"acknowledged orders lost: {sorted(missing)[:10]}"
            stuck = {o: st for o, st in rows.items() if st not in FINAL}
            if not stuck:
                break
            assert time.monotonic() < deadline, f"sagas stuck: {list(stuck.items())[:10]}"
            time.sleep(0.25)
    finally:
        db.dispose()
    checked = subprocess.run([sys.executable, "-m", "server", "check", "--db", url],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
