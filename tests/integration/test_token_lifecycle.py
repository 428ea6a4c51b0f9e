"""Token lifecycle and throttling against live servers: two `tote serve` replicas on one
database (a SQLite file, and PostgreSQL) — a token revoked through one database is refused by
the other replica within a second; an expired token is refused; a token over its rate limit
gets RESOURCE_EXHAUSTED with `retry-after-ms` and the refused call changes nothing; the
handheld's and the console's clients and examples/storefront.py back off through a throttle."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import MetaData, Table, create_engine, insert, select

from core.persistence import migrate
from core.persistence.db import Database, normalize_url
from core.service.tokens import (
    authenticate,
    create_token,
    hash_token,
    lookup_token,
    revoke_token,
)
from demo.actors import bearer, with_backoff
from desktop.client import ConsoleClient
from terminals import backoff
from terminals.client import TerminalError, ToteClient
from tests.conftest import database_at
from tests.harness import ROOT, Client, ToteServer, cod, unique
from tote.v1 import catalog_pb2, catalog_pb2_grpc, fulfillment_pb2, orders_pb2

# The requirement is 1 s; the slack is for a loaded test machine, not for the design (the
# watcher polls every 0.5 s).
REVOKED_WITHIN_S = 1.5


@pytest.fixture(scope="module")
def replica_b(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    """A second replica on the same database, throttling every token to 0.5/s, bursts of 2."""
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve-b"),
                        env={"TOTE_RATE_LIMIT": "0.5:2"}).start()
    try:
        yield server
    finally:
        server.terminate()


def new_token(db_url: str, role: str, expires_in: timedelta | None = None,
              rate: tuple[float, int] | None = None) -> tuple[str, str]:
    db = Database(db_url)
    try:
        return db.run_write(lambda s: create_token(s, role, unique(role), None, expires_in,
                                                   rate))
    finally:
        db.dispose()


def list_products(client: Client) -> object:
    return client.catalog.ListProducts(catalog_pb2.ListProductsRequest(),
                                       metadata=client.metadata, timeout=10)


def refused_within(client: Client, deadline_s: float) -> grpc.RpcError | None:
    """Call until UNAUTHENTICATED; the refusal, or None if it did not come by the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            list_products(client)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc.details()
            return exc
    return None


def test_a_revoked_token_is_refused_within_a_second_by_every_replica(
        db_url, tote, replica_b, admin):
    token_id, secret = new_token(db_url, "storefront", rate=(0.0, 0))
    with closing(tote.client(secret)) as a, closing(replica_b.client(secret)) as b:
        list_products(a)
        list_products(b)  # both replicas have it cached now
        db = Database(db_url)
        try:
            db.run_write(lambda s: revoke_token(s, token_id))
        finally:
            db.dispose()
        revoked = time.monotonic()
        refusal = refused_within(b, REVOKED_WITHIN_S)
        took = time.monotonic() - revoked
        assert refusal is not None, f"replica B still took the token {took:.2f} s after revoke"
        assert "revoked at" in (refusal.details() or "")
        assert refused_within(a, REVOKED_WITHIN_S) is not None


def test_an_expired_token_is_refused_with_when_it_expired(db_url, tote, admin):
    _, secret = new_token(db_url, "storefront", expires_in=timedelta(seconds=2))
    with closing(tote.client(secret)) as shop:
        list_products(shop)  # good (and cached) before it expires
        refusal = refused_within(shop, 30)
    assert refusal is not None, "the token was still taken long after it expired"
    assert "token expired at" in (refusal.details() or "")
    assert "create a new one" in (refusal.details() or "")


def test_a_burst_over_the_rate_limit_is_refused_with_a_retry_delay_and_changes_nothing(
        db_url, tote, admin):
    sku = unique("SKU")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 5)
    _, secret = new_token(db_url, "storefront", rate=(0.5, 2))
    with closing(tote.client(secret)) as shop:
        list_products(shop)
        list_products(shop)  # the burst of 2 is spent; 0.5 a second comes back
        before = admin.stock(sku)
        key = unique("cart")
        with pytest.raises(grpc.RpcError) as refused:
            shop.place([(sku, 1)], cod(), key=key)
        exc = refused.value
        assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "rate limit" in (exc.details() or "")
        trailers = dict(exc.trailing_metadata() or ())
        assert 0 < int(trailers["retry-after-ms"]) <= 2000
        assert admin.stock(sku) == before
        orders = admin.orders.ListOrders(orders_pb2.ListOrdersRequest(page_size=500),
                                         metadata=admin.metadata).orders
        assert all(o.idempotency_key != key for o in orders)


def test_the_servers_default_rate_limit_applies_unless_the_token_has_its_own(
        db_url, replica_b, admin):
    _, limited = new_token(db_url, "storefront")
    _, unlimited = new_token(db_url, "storefront", rate=(0.0, 0))
    with closing(replica_b.client(limited)) as shop, \
            closing(replica_b.client(unlimited)) as free:
        codes = []
        for _ in range(4):
            try:
                list_products(shop)
                codes.append("OK")
            except grpc.RpcError as exc:
                codes.append(exc.code().name)
        assert codes[:2] == ["OK", "OK"] and "RESOURCE_EXHAUSTED" in codes[2:]
        for _ in range(6):
            list_products(free)
        health = health_pb2_grpc.HealthStub(shop.channel)
        for _ in range(6):  # health needs no token and is never throttled
            assert health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == (
                health_pb2.HealthCheckResponse.SERVING)


def test_the_handhelds_client_waits_out_a_short_throttle(db_url, tote, admin):
    _, secret = new_token(db_url, "picker", rate=(5.0, 1))
    client = ToteClient(tote.grpc_address, secret)
    try:
        for _ in range(3):  # the 2nd and 3rd are throttled ~200 ms each, then go through
            assert client.next_task(unique("FC-NONE")) is None
    finally:
        client.close()


def test_the_handhelds_client_gives_up_readably_after_bounded_attempts(db_url, tote, admin):
    _, secret = new_token(db_url, "picker", rate=(0.01, 1))
    client = ToteClient(tote.grpc_address, secret)
    waits: list[float] = []
    try:
        assert client.next_task(unique("FC-NONE")) is None  # the burst of one
        with pytest.raises(grpc.RpcError) as refused:
            backoff.call_with_backoff(
                lambda: client.fulfillment.NextPickTask(
                    fulfillment_pb2.NextPickTaskRequest(fc_id=unique("FC-NONE")),
                    metadata=client.metadata, timeout=10),
                attempts=3, sleep=waits.append)
        assert len(waits) == 2 and all(0 < w <= backoff.MAX_WAIT_S * 1.1 for w in waits)
        with pytest.raises(TerminalError) as readable:
            client.next_task(unique("FC-NONE"))
        assert readable.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "server busy" in readable.value.message
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        client.close()


def test_the_consoles_client_waits_out_a_short_throttle(db_url, tote, admin):
    _, secret = new_token(db_url, "supervisor", rate=(5.0, 1))
    client = ConsoleClient(tote.grpc_address, secret)
    try:
        for _ in range(3):
            assert any(fc.fc_id == "FC-BLR" for fc in client.list_fcs())
    finally:
        client.close()


def test_the_storefront_example_backs_off_and_places_every_order(db_url, tote, admin,
                                                                 tmp_path):
    sku = unique("SKU")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 10)
    _, secret = new_token(db_url, "storefront", rate=(4.0, 1))
    token_file = tmp_path / "shop.token"
    token_file.write_text(secret + "\n")
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "storefront.py"), "--server",
         tote.grpc_address, "--token-file", str(token_file), "--sku", sku, "--orders", "3"],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.split()) == 6  # three "ord_… STATUS" lines
    assert "throttled" in out.stderr  # it did meet the limit, and waited


db_at_0007 = database_at("0007")  # before token expiry and rate limits


def test_migration_0008_keeps_the_tokens_before_it_working_and_goes_back_down(db_at_0007):
    engine = create_engine(normalize_url(db_at_0007))
    secret = "tote_made-before-0008"
    try:
        with engine.begin() as conn:
            before = Table("api_tokens", MetaData(), autoload_with=conn)
            conn.execute(insert(before), [{
                "token_id": "tok_OLD", "token_hash": hash_token(secret), "name": "old",
                "role": "supervisor", "fc_id": None, "created_at": datetime(2026, 12, 1,
                                                                            tzinfo=UTC)}])
        migrate.upgrade(db_at_0007)
        migrate.check(db_at_0007)
        db = Database(db_at_0007)
        try:
            record = db.run_read(lambda s: lookup_token(s, secret))
            assert record is not None and record.expires_at is None
            assert record.rate_limit is None  # the server's default applies to it
            assert db.run_read(lambda s: authenticate(s, secret)) is not None
        finally:
            db.dispose()
        migrate.downgrade(db_at_0007, "0007")
        with engine.begin() as conn:
            old = Table("api_tokens", MetaData(), autoload_with=conn)
            assert "expires_at" not in old.c and "rate_limit_rps" not in old.c
            assert len(conn.execute(select(old)).all()) == 1
    finally:
        engine.dispose()


def test_the_demos_storefront_waits_out_a_short_throttle(db_url, tote, admin):
    _, secret = new_token(db_url, "storefront", rate=(5.0, 1))

    async def three_calls() -> int:
        async with grpc.aio.insecure_channel(tote.grpc_address) as channel:
            stub = catalog_pb2_grpc.CatalogServiceStub(channel)
            for _ in range(3):  # the 2nd and 3rd are throttled ~200 ms each
                await with_backoff(lambda: stub.ListProducts(
                    catalog_pb2.ListProductsRequest(), metadata=bearer(secret), timeout=10))
        return 3

    assert asyncio.run(three_calls()) == 3
