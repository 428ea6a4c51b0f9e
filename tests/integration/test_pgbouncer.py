"""tote through PgBouncer in transaction-pooling mode (Debian's pgbouncer, started here with its
config in a temporary folder): a real `tote serve --no-db-prepared-statements` places orders and
drives them to PROCESSING, answers GetOrder and streams events; the statement and
idle-in-transaction timeouts hold through it (they are set per transaction, not per session);
with prepared statements on, the error names the flag that fixes it."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from core.persistence.db import Database
from core.persistence.pg_engine import DbOptions, PreparedStatementsUnsupported
from tests.conftest import migrated_pg_database
from tests.harness import Client, ToteServer, card, free_port, sandbox_card, unique
from tests.pg_probe import admin, wait_until
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED
STATEMENT_TIMEOUT_S = 2


class PgBouncer:
    """pgbouncer in transaction-pooling mode on a free loopback port, trusting its clients,
    in front of the test server. `name` is the database; `name_one` the same database
    through a pool of one server connection (where prepared statements collide at once)."""

    def __init__(self, workdir: Path, pg_url: str, name: str) -> None:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.access(binary, os.X_OK):
            message = "pgbouncer is not installed: scripts/setup --tests installs it"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        upstream = make_url(pg_url)
        self.port = free_port()
        self.user = upstream.username or "postgres"
        server = f"host={upstream.host or '127.0.0.1'} port={upstream.port or 5432} dbname={name}"
        (workdir / "users.txt").write_text(f'"{self.user}" ""\n')
        config = workdir / "pgbouncer.ini"
        config.write_text(f"""\
[databases]
{name} = {server}
{name}_one = {server} pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / 'users.txt'}
admin_users = {self.user}
pool_mode = transaction
max_client_conn = 200
default_pool_size = 5
""")
        # pgbouncer refuses to run as root; it reads its config before it changes user.
        as_user = ["-u", "nobody"] if os.geteuid() == 0 and _has_user("nobody") else []
        self.log = workdir / "pgbouncer.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([binary, *as_user, str(config)], stdout=out,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pgbouncer did not start:\n{self.log.read_text()}")
            time.sleep(0.05)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def clients(self) -> list[dict[str, object]]:
        """SHOW CLIENTS on pgbouncer's admin console."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} dbname=pgbouncer "
                             f"user={self.user}", autocommit=True) as conn:
            cur = conn.execute("SHOW CLIENTS")
            names = [c.name for c in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def database(pg_server) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A migrated database of this module's own: (URL, name)."""
    with migrated_pg_database(pg_server) as url:
        yield url, url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def bouncer(database, pg_server, tmp_path_factory) -> Iterator[PgBouncer]:  # type: ignore[no-untyped-def]
    running = PgBouncer(tmp_path_factory.mktemp("pgbouncer"), pg_server, database[1])
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def tote(bouncer, database, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    server = ToteServer(bouncer.url(database[1]), tmp_path_factory.mktemp("serve"), args=[
        "--no-db-prepared-statements", "--db-pool-size", "6",
        "--db-statement-timeout-s", str(STATEMENT_TIMEOUT_S)]).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def shop(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    admin_client = tote.client(tote.token("admin", "ops"))
    admin_client.fc("FC-PGB")
    admin_client.close()
    client = tote.client(tote.token("storefront", "shop-a"))
    yield client
    client.close()


def _stock(tote: ToteServer, quantity: int) -> str:
    client = tote.client(tote.token("admin", "ops"))
    try:
        sku = unique("PGB")
        client.product(sku)
        client.receive("FC-PGB", sku, quantity)
        return sku
    finally:
        client.close()


def test_orders_reach_processing_and_stream_through_pgbouncer(tote, shop, bouncer, database):  # type: ignore[no-untyped-def]
    sku = _stock(tote, 100)
    token = sandbox_card(tote.sandbox_url)
    seen: list[pb.OrderEvent] = []
    # after_event_id 0: the history from the start, then live (no race with the first order).
    stream = shop.orders.WatchOrders(orders_pb2.WatchOrdersRequest(after_event_id="0"),
                                     metadata=shop.metadata)

    def read() -> None:
        try:
            for event in stream:
                seen.append(event)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.CANCELLED

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    placed: list[str] = []
    failures: list[BaseException] = []

    def customer() -> None:
        try:
            for _ in range(3):
                placed.append(shop.place([(sku, 1)], card(token)).order_id)
        except BaseException as exc:  # the assertion below names it
            failures.append(exc)

    customers = [threading.Thread(target=customer) for _ in range(8)]
    for t in customers:
        t.start()
    for t in customers:
        t.join(120)
    assert not failures, failures[:3]
    assert len(placed) == 24
    for order_id in placed:
        order = shop.wait_status(order_id, {PROCESSING, CANCELLED})
        assert order.status == PROCESSING, order.cancel_reason
        assert order.payment.state == "authorized"
    # WatchOrder: an order's whole history, in causal order.
    types = [e.type for e in shop.events(placed[0], timeout_s=3)]
    assert types[0] == "Order_Created" and types[-1] == "Order_Assigned", types
    # WatchOrders: every order's assignment.
    wait_until(lambda: {e.order_id for e in seen if e.type == "Order_Assigned"} >= set(placed),
               f"WatchOrders showed every order assigned (it showed {len(seen)} events)")
    stream.cancel()
    reader.join(10)
    # tote's connections were pgbouncer's clients, named tote.
    assert any(c["database"] == database[1] and c["application_name"] == "tote"
               for c in bouncer.clients())
    log = tote.log_path.read_text()
    assert "Traceback" not in log and "prepared statement" not in log


def test_a_statement_past_the_timeout_is_cancelled_through_pgbouncer(tote, shop, database):  # type: ignore[no-untyped-def]
    sku = _stock(tote, 5)
    placed = shop.place([(sku, 1)], card(sandbox_card(tote.sandbox_url)))
    assert shop.wait_status(placed.order_id, {PROCESSING, CANCELLED}).status == PROCESSING
    # Another client holds a lock on the orders table: tote's GetOrder waits for it, and
    # the wait counts towards statement_timeout, set per transaction through pgbouncer.
    with admin(database[1]) as holder, holder.transaction():
        holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(grpc.RpcError) as refused:
            # The deadline only catches a statement that was never cancelled (a hang).
            shop.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=placed.order_id),
                                 metadata=shop.metadata, timeout=60)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
        assert "--db-statement-timeout-s" in (refused.value.details() or "")
    # The lock gone, the same call answers.
    assert shop.get(placed.order_id).status == PROCESSING


def test_a_transaction_left_idle_is_ended_through_pgbouncer(bouncer, database):  # type: ignore[no-untyped-def]
    db = Database(bouncer.url(database[1]), options=DbOptions(
        idle_in_transaction_timeout_s=0.5, prepare_threshold=None))
    probe = admin()
    try:
        with pytest.raises(DBAPIError, match="idle-in-transaction timeout"), \
                db.write() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()

            def ended() -> bool:
                return probe.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                                     (pid,)).fetchone() == (0,)

            # The server ends the backend that sat idle in our transaction...
            wait_until(ended, "the idle transaction's backend was ended")
            # ...and the transaction's next statement learns it.
            session.execute(text("SELECT 1"))
        assert db.run_read(lambda s: s.execute(text("SELECT 1")).scalar()) == 1
    finally:
        probe.close()
        db.dispose()


def test_prepared_statements_through_pgbouncer_fail_naming_the_flag(bouncer, database):  # type: ignore[no-untyped-def]
    # Two clients share one server connection (`_one`): psycopg names each client's first
    # prepared statement _pg3_0, so the second to prepare one collides with the first's.
    url = bouncer.url(f"{database[1]}_one")
    first, second = (Database(url, options=DbOptions(pool_size=1)) for _ in range(2))
    try:
        for i in range(6):
            first.run_read(lambda s, i=i: s.execute(text("SELECT CAST(:x AS int)"), {"x": i}))
        with pytest.raises(PreparedStatementsUnsupported,
                           match="--no-db-prepared-statements") as lost:
            for i in range(6):
                second.run_read(lambda s, i=i: s.execute(text("SELECT CAST(:x AS int) + 1"),
                                                         {"x": i}))
        assert "_pg3_0" in str(lost.value)
    finally:
        first.dispose()
        second.dispose()
    # With them off (--no-db-prepared-statements) the same runs clean.
    first, second = (Database(url, options=DbOptions(pool_size=1, prepare_threshold=None))
                     for _ in range(2))
    try:
        for db in (first, second):
            for i in range(6):
                assert db.run_read(lambda s, i=i: s.execute(
                    text("SELECT CAST(:x AS int) + 2"), {"x": i}).scalar()) == i + 2
    finally:
        first.dispose()
        second.dispose()
