"""`tote serve --tls-cert --tls-key [--tls-client-ca]`: real TLS handshakes on loopback, for gRPC
and the webhook endpoint, with a throwaway CA made here (the `cryptography` package).

A client that trusts the CA gets through; a plaintext client or one trusting another CA does
not; with --tls-client-ca a client without a certificate is refused. A TLS file that cannot be
used stops `tote serve` before anything starts, with exit 1 and a sentence naming the file
(never the key's text).
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from grpc_health.v1 import health_pb2, health_pb2_grpc

from core.persistence import migrate
from server.cli import cli
from terminals.client import ToteClient
from terminals.tls import ClientTls, channel
from tests.harness import ToteServer, unique
from tests.tls_pki import make_pki
from tote.v1 import common_pb2, fulfillment_pb2, fulfillment_pb2_grpc

HANG_S = 30.0


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    url = str(tmp_path_factory.mktemp("db") / "tote.db")
    migrate.upgrade(url)
    return url


def _serve(db_url: str, folder: Path, args: list[str]) -> Iterator[ToteServer]:
    server = ToteServer(db_url, folder, args=args).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def tote(db_url, pki, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    yield from _serve(db_url, tmp_path_factory.mktemp("tls"),
                      ["--tls-cert", pki["cert"], "--tls-key", pki["key"]])


@pytest.fixture(scope="module")
def mutual(db_url, pki, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    yield from _serve(db_url, tmp_path_factory.mktemp("mtls"),
                      ["--tls-cert", pki["cert"], "--tls-key", pki["key"],
                       "--tls-client-ca", pki["ca"]])


def health(address: str, tls: ClientTls | None) -> int:
    """The server's health status over a channel; the RpcError when the channel fails."""
    with channel(address, tls) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        return stub.Check(health_pb2.HealthCheckRequest(), timeout=HANG_S).status


def refused(address: str, tls: ClientTls | None) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        health(address, tls)
    return caught.value.code()  # type: ignore[attr-defined,no-any-return]


SERVING = health_pb2.HealthCheckResponse.SERVING


# --- gRPC ------------------------------------------------------------------------------------


def test_a_client_with_the_ca_gets_through(tote, pki):
    assert health(tote.grpc_address, ClientTls(pki["ca"])) == SERVING


def test_a_plaintext_client_is_refused(tote):
    assert refused(tote.grpc_address, None) == grpc.StatusCode.UNAVAILABLE


def test_a_client_trusting_another_ca_is_refused(tote, pki):
    assert refused(tote.grpc_address, ClientTls(pki["other_ca"])) == grpc.StatusCode.UNAVAILABLE


def test_the_picker_terminals_client_works_over_tls(tote, pki):
    fc_id = unique("FC")
    admin = ToteClient(tote.grpc_address, tote.token("admin", "ops"), tls=ClientTls(pki["ca"]))
    try:
        fulfillment_pb2_grpc.FulfillmentServiceStub(admin.channel).UpsertFulfillmentCenter(
            fulfillment_pb2.UpsertFulfillmentCenterRequest(fc=common_pb2.FulfillmentCenter(
                fc_id=fc_id, name=fc_id, latitude=12.9, longitude=77.6, cutoff_hour=16,
                daily_capacity=100)), metadata=admin.metadata, timeout=HANG_S)
    finally:
        admin.close()
    picker = ToteClient(tote.grpc_address, tote.token("picker", "p-1", fc_id),
                        tls=ClientTls(pki["ca"]))
    try:
        assert picker.next_task(fc_id) is None  # an authenticated call answered: no work yet
    finally:
        picker.close()


def test_tote_console_and_tote_picker_dial_with_tls_ca(tote, pki, monkeypatch):
    """The commands' --tls-ca (and TOTE_TLS_CA) reach the channel: a real call over TLS."""
    import desktop.app
    import terminals.picker.app
    from desktop.client import ConsoleClient

    answered: list[str] = []

    def open_console(server: str, token: str, tls: ClientTls | None = None) -> int:
        client = ConsoleClient(server, token, tls)
        try:
            client.list_orders()
            answered.append("console")
        finally:
            client.close()
        return 0

    def open_picker(server, token, fc_id, config_file, *, token_file=None, tls=None):  # type: ignore[no-untyped-def]
        client = ToteClient(server, token, tls=tls)
        try:
            assert client.next_task(fc_id) is None
            answered.append("picker")
        finally:
            client.close()

    monkeypatch.setattr(desktop.app, "run", open_console)
    monkeypatch.setattr(terminals.picker.app, "run", open_picker)
    for var in ("TOTE_TOKEN", "TOTE_TOKEN_FILE", "TOTE_TLS_CA", "TOTE_SERVER"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()
    done = runner.invoke(cli, ["console", "--server", tote.grpc_address, "--tls-ca", pki["ca"],
                               "--token", tote.token("supervisor", "desk")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["picker", "--server", tote.grpc_address, "--fc", "FC-ANY",
                               "--token", tote.token("picker", "p-2")],
                         env={"TOTE_TLS_CA": pki["ca"]})
    assert done.exit_code == 0, done.output
    assert answered == ["console", "picker"]


def test_mutual_tls_refuses_a_client_without_a_certificate(mutual, pki):
    assert refused(mutual.grpc_address, ClientTls(pki["ca"])) == grpc.StatusCode.UNAVAILABLE
    with_cert = ClientTls(pki["ca"], pki["client_cert"], pki["client_key"])
    assert health(mutual.grpc_address, with_cert) == SERVING


# --- the webhook endpoint --------------------------------------------------------------------


def test_the_webhook_endpoint_speaks_https_only(tote, pki):
    assert tote.webhook_url.startswith("https://")
    r = httpx.get(f"{tote.webhook_url}/healthz", verify=ssl.create_default_context(
        cafile=pki["ca"]), timeout=HANG_S)
    assert r.status_code == 200 and r.json() == {"ok": True}
    with pytest.raises(httpx.ConnectError):  # a client that does not trust the CA
        httpx.get(f"{tote.webhook_url}/healthz", verify=ssl.create_default_context(
            cafile=pki["other_ca"]), timeout=HANG_S)
    with pytest.raises(httpx.TransportError):  # plaintext
        httpx.get(f"{tote.webhook_url.replace('https', 'http', 1)}/healthz", timeout=HANG_S)


def test_the_webhook_endpoint_with_mutual_tls_wants_a_client_certificate(mutual, pki):
    context = ssl.create_default_context(cafile=pki["ca"])
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{mutual.webhook_url}/healthz", verify=context, timeout=HANG_S)
    context.load_cert_chain(pki["client_cert"], pki["client_key"])
    r = httpx.get(f"{mutual.webhook_url}/healthz", verify=context, timeout=HANG_S)
    assert r.status_code == 200


def test_the_key_is_never_in_the_log(tote, pki):
    key = Path(pki["key"]).read_text()
    body = "".join(key.splitlines()[1:-1])[:40]
    assert body not in tote.log_path.read_text()


# --- files that cannot be used ---------------------------------------------------------------


def serve_with(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "serve", "--db", str(db),
                           "--listen", "127.0.0.1:0", "--webhook-listen", "127.0.0.1:0",
                           "--sandbox", "--sandbox-listen", "127.0.0.1:0", *args],
                          capture_output=True, text=True, timeout=HANG_S)


@pytest.mark.parametrize("case", ["missing cert", "missing key", "key of another cert",
                                  "key is not PEM", "client CA is not PEM", "key alone",
                                  "key is encrypted"])
def test_a_tls_file_that_cannot_be_used_is_exit_1_before_anything_starts(pki, tmp_path, case):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    locked = tmp_path / "locked.key"
    locked.write_bytes(serialization.load_pem_private_key(
        Path(pki["key"]).read_bytes(), None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"hunter2")))
    args = {
        "missing cert": ["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", pki["key"]],
        "missing key": ["--tls-cert", pki["cert"], "--tls-key", str(tmp_path / "nope.key")],
        "key of another cert": ["--tls-cert", pki["cert"], "--tls-key", pki["client_key"]],
        "key is not PEM": ["--tls-cert", pki["cert"], "--tls-key", str(junk)],
        "client CA is not PEM": ["--tls-cert", pki["cert"], "--tls-key", pki["key"],
                                 "--tls-client-ca", str(junk)],
        "key alone": ["--tls-key", pki["key"]],
        "key is encrypted": ["--tls-cert", pki["cert"], "--tls-key", str(locked)],
    }[case]
    done = serve_with(tmp_path / "tote.db", *args)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Error: " in out and "tote serving" not in out
    assert not (tmp_path / "tote.db").exists()  # nothing started, not even the database
    if case == "key is encrypted":  # (not a terminal prompt for its passphrase)
        assert "is encrypted" in out, out
    for key in (pki["key"], pki["client_key"]):
        assert "".join(Path(key).read_text().splitlines()[1:-1])[:40] not in out


def test_a_client_ca_that_cannot_be_read_is_exit_1(tmp_path):
    done = subprocess.run([sys.executable, "-m", "server", "picker", "--server", "127.0.0.1:1",
                           "--token", "t", "--fc", "FC-1", "--tls-ca", str(tmp_path / "no.pem")],
                          capture_output=True, text=True, timeout=HANG_S)
    assert done.returncode == 1 and "no.pem" in done.stderr, done.stderr


def test_the_in_process_sandbox_sends_its_webhooks_over_https(tote):
    intent_id = unique("upi")
    with httpx.Client(base_url=tote.sandbox_url, timeout=HANG_S) as sandbox:
        r = sandbox.post("/v1/upi/intents", json={
            "intent_id": intent_id, "vpa": "shopper@bank", "amount_minor": 100,
            "currency": "INR", "reference": unique("ORD"), "expires_at": 2**31},
            headers={"Idempotency-Key": intent_id})
        assert r.status_code < 300, r.text
        r = sandbox.post(f"/v1/upi/intents/{intent_id}/approve",
                         headers={"Idempotency-Key": intent_id + "-ok"})
        assert r.status_code < 300, r.text
        deadline = time.monotonic() + HANG_S
        while True:
            sent = [w for w in sandbox.get("/v1/sandbox/webhooks").json()["webhooks"]
                    if w["type"] == "upi.intent.approved"]
            if sent and sent[-1]["status"] != "pending":
                break
            assert time.monotonic() < deadline, "the webhook was never delivered or given up"
    assert sent[-1]["status"] == "delivered", sent[-1]
