"""tote serve killed mid-saga, or stopped with SIGTERM: every saga finishes after a restart,
nothing is authorized twice, and no soft lock outlives its order."""

import collections
import concurrent.futures
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from core.persistence.db import Database
from core.persistence.models import Order, SoftLock, StockLevel
from tests.harness import SandboxProcess, ToteServer, card, free_port, ledger, sandbox_card, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

FINAL = {pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED}
pytestmark = pytest.mark.slow


@pytest.fixture
def parts(db_url, tmp_path):  # type: ignore[no-untyped-def]
    webhook_port = free_port()
    sandbox = SandboxProcess(tmp_path, f"http://127.0.0.1:{webhook_port}/webhooks/gateway",
                             latency_ms=400).start()

    def server() -> ToteServer:
        return ToteServer(db_url, tmp_path, sandbox=False, webhook_port=webhook_port,
                          args=["--gateway-url", sandbox.url, "--carrier-url", sandbox.url,
                                "--saga-lease-s", "2"])

    yield sandbox, server
    sandbox.stop()


def _no_orphan_locks(db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.read() as s:
            dead = s.scalar(select(func.count()).select_from(SoftLock).join(
                Order, Order.order_id == SoftLock.order_id).where(Order.status == "CANCELLED"))
            held = s.scalar(select(func.coalesce(func.sum(SoftLock.quantity), 0)))
            counted = s.scalar(select(func.coalesce(func.sum(StockLevel.soft_locked), 0)))
    finally:
        db.dispose()
    assert dead == 0, "soft locks left behind by cancelled orders"
    assert held == counted, "stock levels disagree with the soft locks held"


def _count_pending(db_url: str) -> int:
    db = Database(db_url)
    try:
        with db.read() as s:
            return s.scalar(select(func.count()).select_from(Order)
                            .where(Order.status == "PENDING")) or 0
    finally:
        db.dispose()


def test_sigkill_mid_saga_then_restart_finishes_every_order_without_double_charges(parts):
    sandbox, server = parts
    first = server().start()
    admin = first.client(first.token("admin"))
    admin.fc("FC-BLR")
    sku = unique("CRASH")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 30)
    token = sandbox_card(sandbox.url)
    declined = sandbox_card(sandbox.url, "4000000000000002")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        placed = list(pool.map(
            lambda i: admin.place([(sku, 1)], card(declined if i % 5 == 0 else token)),
            range(30)))
    # Kill once the sagas are under way: the first hold has reached the (slow) sandbox.
    deadline = time.monotonic() + 30
    while not any(e["kind"] == "authorization" for e in ledger(sandbox.url)):
        assert time.monotonic() < deadline, "no authorization reached the sandbox"
        time.sleep(0.02)
    first.kill()
    admin.close()
    assert _count_pending(first.db_url) > 0, "the kill came too late to interrupt any saga"

    second = server().start()
    admin = second.client(second.token("admin"))
    finals = [admin.wait_status(o.order_id, FINAL, timeout_s=60) for o in placed]
    assert all(o.status in FINAL for o in finals), [o.status for o in finals]
    processing = sum(o.status == pb.ORDER_STATUS_PROCESSING for o in finals)
    assert processing == 24  # every fifth card is declined; stock suffices for the rest
    auths = collections.Counter(e["reference"] for e in ledger(sandbox.url)
                                if e["kind"] == "authorization")
    assert set(auths) == {o.order_id for o in placed}
    assert max(auths.values()) == 1, auths.most_common(3)
    assert admin.stock(sku)[:2] == (30, 24)
    second.terminate()
    _no_orphan_locks(second.db_url)


def test_sigterm_drains_in_flight_calls_and_sagas_resume_on_the_next_start(parts):
    sandbox, server = parts
    first = server().start()
    admin = first.client(first.token("admin"))
    admin.fc("FC-BLR")
    sku = unique("TERM")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 10)
    token = sandbox_card(sandbox.url)
    ready = admin.place([(sku, 1)], card(token))
    assert admin.wait_status(ready.order_id, FINAL).status == pb.ORDER_STATUS_PROCESSING
    # The sandbox voids the hold at once but holds its answer for 3 s, so CancelOrder (which
    # waits for the void) is provably in flight: it reached the gateway before the signal (the
    # void is in the ledger) and had not returned after it (its thread is still waiting).
    armed = httpx.post(f"{sandbox.url}/v1/sandbox/faults",
                       json={"route": "void", "kind": "timeout_after", "delay_ms": 3000})
    assert armed.status_code in (200, 201), armed.text
    result: dict[str, object] = {}

    def cancel() -> None:
        result["order"] = admin.orders.CancelOrder(
            orders_pb2.CancelOrderRequest(order_id=ready.order_id, reason="changed my mind"),
            metadata=admin.metadata, timeout=30)

    canceller = threading.Thread(target=cancel)
    canceller.start()
    more = [admin.place([(sku, 1)], card(token)) for _ in range(5)]
    deadline = time.monotonic() + 30
    while "void" not in {e["kind"] for e in ledger(sandbox.url, ready.order_id)}:
        assert time.monotonic() < deadline, "the void never reached the sandbox"
        time.sleep(0.02)
    assert first.proc is not None
    first.proc.send_signal(signal.SIGTERM)
    assert canceller.is_alive(), "CancelOrder returned before SIGTERM: nothing was in flight"
    assert first.terminate() == 0
    canceller.join(30)
    assert result["order"].status == pb.ORDER_STATUS_CANCELLED  # type: ignore[attr-defined]
    log = "".join(first._pump.lines)
    assert "tote: stopping — draining in-flight calls" in log and "tote: stopped" in log
    admin.close()

    second = server().start()
    admin = second.client(second.token("admin"))
    finals = [admin.wait_status(o.order_id, FINAL, timeout_s=60) for o in more]
    assert [o.status for o in finals] == [pb.ORDER_STATUS_PROCESSING] * 5
    kinds = sorted(e["kind"] for e in ledger(sandbox.url, ready.order_id))
    assert kinds == ["authorization", "void"]
    second.terminate()
    _no_orphan_locks(second.db_url)
    assert httpx.get(f"{sandbox.url}/healthz").status_code == 200
