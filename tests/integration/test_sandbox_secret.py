"""`tote sandbox` alone, then `tote serve --gateway-url …`, as API.md documents them: two real
processes; the sandbox makes (and prints, or files) its webhook secret, serve is given it, and
a UPI approval reaches serve by webhook alone (serve's own polling is turned off)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.persistence import migrate
from tests.harness import ROOT, ToteServer, _Pump, free_port, unique, upi
from tote.v1 import common_pb2 as pb

_LISTENING = re.compile(r"sandbox listening on (\S+);")
_PRINTED = re.compile(r"webhook secret \(generated.*\): (\S+)$")
NO_POLLING = ["--upi-poll-s", "3600", "--tracking-poll-s", "3600"]


@dataclass
class Sandbox:
    proc: subprocess.Popen[str]
    pump: _Pump
    url: str

    def line(self, pattern: re.Pattern[str]) -> re.Match[str]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for line in list(self.pump.lines):
                if m := pattern.search(line.rstrip("\n")):
                    return m
            assert self.proc.poll() is None, "".join(self.pump.lines)
            time.sleep(0.05)
        raise AssertionError(f"no line like {pattern.pattern!r} in {self.pump.lines}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.pump.join(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def start_sandbox(workdir: Path, notify_url: str, *args: str) -> Sandbox:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOTE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "sandbox", "--listen", "127.0.0.1:0",
         "--notify-url", notify_url, *args], cwd=workdir, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env={**env, "PYTHONUNBUFFERED": "1"})
    sandbox = Sandbox(proc, _Pump(proc.stdout, workdir / "sandbox.log"), "")
    sandbox.url = sandbox.line(_LISTENING).group(1)
    return sandbox


@pytest.fixture
def workdir(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    migrate.upgrade(str(tmp_path / "tote.db"))
    return tmp_path


@pytest.fixture
def running() -> Iterator[list]:  # type: ignore[type-arg]
    """What a test started, stopped at its end whatever happens."""
    started: list = []  # type: ignore[type-arg]
    yield started
    for thing in reversed(started):
        thing.terminate() if isinstance(thing, ToteServer) else thing.stop()


def serve(workdir: Path, sandbox: Sandbox, webhook_port: int, running: list,  # type: ignore[type-arg]
          *args: str, env: dict[str, str] | None = None) -> ToteServer:
    tote = ToteServer(str(workdir / "tote.db"), workdir, sandbox=False, webhook_secret=None,
                      webhook_port=webhook_port, env=env or {},
                      args=["--gateway-url", sandbox.url, "--carrier-url", sandbox.url,
                            *NO_POLLING, *args])
    running.append(tote.start())
    return tote


def approve_an_upi_order(tote: ToteServer, sandbox: Sandbox) -> tuple[str, dict]:  # type: ignore[type-arg]
    """Place a UPI order, approve it at the sandbox; (order id, the webhook's delivery)."""
    admin = tote.client(tote.token("admin", "ops"))
    shop = tote.client(tote.token("storefront", "shop-a"))
    try:
        admin.fc("FC-BLR")
        sku = unique("TEA")
        admin.product(sku, price_minor=25_000)
        admin.receive("FC-BLR", sku, 3)
        placed = shop.place([(sku, 1)], upi())
        assert placed.status == pb.ORDER_STATUS_PENDING and placed.payment.upi_intent_id
        intent = placed.payment.upi_intent_id
        r = httpx.post(f"{sandbox.url}/v1/upi/intents/{intent}/approve")
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 60
        while True:
            # (each test has a sandbox of its own: this is its only approval)
            sent = [d for d in httpx.get(f"{sandbox.url}/v1/sandbox/webhooks").json()["webhooks"]
                    if d["type"] == "upi.intent.approved" and d["status"] != "pending"]
            if sent or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert sent, "the sandbox sent no webhook for the approval"
        return placed.order_id, sent[0]
    finally:
        admin.close()
        shop.close()


def status_of(tote: ToteServer, order_id: str, wait_for: int | None = None) -> int:
    client = tote.client(tote.token("supervisor", "desk"))
    try:
        if wait_for is None:
            return client.get(order_id).status
        return client.wait_status(order_id, {wait_for, pb.ORDER_STATUS_CANCELLED},
                                  timeout_s=60).status
    finally:
        client.close()


def test_the_secret_the_sandbox_prints_lets_serve_accept_its_upi_webhook(workdir, running):
    port = free_port()
    sandbox = start_sandbox(workdir, f"http://127.0.0.1:{port}/webhooks/gateway")
    running.append(sandbox)
    secret = sandbox.line(_PRINTED).group(1)
    assert len(secret) >= 43  # 256 bits
    tote = serve(workdir, sandbox, port, running, env={"TOTE_WEBHOOK_SECRET": secret})
    order_id, delivery = approve_an_upi_order(tote, sandbox)
    assert delivery["status"] == "delivered", delivery
    assert status_of(tote, order_id, pb.ORDER_STATUS_PROCESSING) == pb.ORDER_STATUS_PROCESSING
    assert secret not in tote.log_path.read_text()


def test_a_secret_file_made_by_the_sandbox_is_read_by_serve(workdir, running):
    port = free_port()
    key = workdir / "webhook.key"
    sandbox = start_sandbox(workdir, f"http://127.0.0.1:{port}/webhooks/gateway",
                            "--webhook-secret-file", str(key))
    running.append(sandbox)
    sandbox.line(re.compile(r"webhook secret written to .*webhook\.key"))
    assert key.stat().st_mode & 0o777 == 0o600
    secret = key.read_text().strip()
    assert secret not in "".join(sandbox.pump.lines)
    tote = serve(workdir, sandbox, port, running, "--webhook-secret-file", str(key))
    order_id, delivery = approve_an_upi_order(tote, sandbox)
    assert delivery["status"] == "delivered", delivery
    assert status_of(tote, order_id, pb.ORDER_STATUS_PROCESSING) == pb.ORDER_STATUS_PROCESSING


def test_serve_without_the_secret_warns_and_refuses_the_sandboxs_webhook(workdir, running):
    port = free_port()
    sandbox = start_sandbox(workdir, f"http://127.0.0.1:{port}/webhooks/gateway")
    running.append(sandbox)
    tote = serve(workdir, sandbox, port, running)
    assert "no webhook secret" in tote.log_path.read_text()
    order_id, delivery = approve_an_upi_order(tote, sandbox)
    assert delivery["status"] == "refused", delivery
    assert status_of(tote, order_id) == pb.ORDER_STATUS_PENDING


def test_an_unusable_secret_file_is_named_and_serve_does_not_start(tmp_path):
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    out = subprocess.run([sys.executable, "-m", "server", "serve", "--db",
                          str(tmp_path / "t.db"), "--webhook-secret-file", str(empty),
                          "--gateway-url", "http://127.0.0.1:9", "--carrier-url",
                          "http://127.0.0.1:9"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and f"{empty} must hold the secret on one line" in out.stderr
    assert "Traceback" not in out.stderr
