"""What bench/events.py's figures share: reading the database, driving PlaceOrder, and the
outside parties tote talks to — a webhook receiver and an SMTP server — each in a process of
its own, so that their clocks are not held up by the bench's own client on the same GIL."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from core.persistence.db import Database
from core.service.tokens import create_token

# -- the database (read-only, beside tote serve) ---------------------------------------------------

def scalar(db_path: str, sql: str, params: tuple[Any, ...] = ()) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return int(conn.execute(sql, params).fetchone()[0] or 0)
    finally:
        conn.close()


def rows(db_path: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def epoch(stored: str) -> float:
    """A UtcDateTime as SQLite keeps it (naive, UTC) → Unix seconds."""
    at = datetime.fromisoformat(stored)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def finished(db: str, fc_id: str | None = None) -> int:
    """Orders whose saga has ended (of one FC, or all)."""
    sql = "SELECT count(*) FROM orders WHERE status IN ('PROCESSING','CANCELLED')"
    if fc_id is None:
        return scalar(db, sql)
    return scalar(db, sql + " AND fc_id = ?", (fc_id,))


def tokens(db_url: str, wanted: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{name: token} for (role, name) pairs, made in one go."""
    db = Database(db_url)
    try:
        return {name: db.run_write(lambda s, r=role, n=name: create_token(s, r, n, ""))[1]
                for role, name in wanted}
    finally:
        db.dispose()


# -- figures ------------------------------------------------------------------------------------

def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1)))]


def spread_ms(seconds: list[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds, and how many."""
    return {"p50_ms": 1000 * quantile(seconds, 0.5), "p99_ms": 1000 * quantile(seconds, 0.99),
            "max_ms": 1000 * max(seconds, default=float("nan")), "n": len(seconds)}


# -- driving PlaceOrder ---------------------------------------------------------------------------

async def drive(call: Callable[[], Any], concurrency: int, seconds: float) -> int:
    """Back to back from `concurrency` callers for `seconds`; calls done."""
    stop, done = time.perf_counter() + seconds, 0

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call()
            done += 1

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return done


async def paced(call: Callable[[int], Any], rate: float, seconds: float) -> int:
    """`rate` calls a second for `seconds`, each started on time (open loop); call(i)."""
    t0, n, tasks = time.perf_counter(), int(rate * seconds), []
    for i in range(n):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(call(i)))
    await asyncio.gather(*tasks)
    return n


async def saga_rate(call: Callable[[], Any], db: str, fc_id: str, concurrency: int,
                    seconds: float) -> float:
    """Sagas/s of this server at full throughput: PlaceOrder from `concurrency` callers for
    `seconds` (orders routed to `fc_id`), counted until the last of them has finished."""
    before, t0 = finished(db, fc_id), time.perf_counter()
    placed = await drive(call, concurrency, seconds)
    while finished(db, fc_id) - before < placed:
        await asyncio.sleep(0.02)
    return placed / (time.perf_counter() - t0)


async def wait_until(what: str, check: Callable[[], bool], timeout_s: float) -> float:
    """Poll check() until true; the time.time() it turned true. A deadline only for a hang."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.time()


# -- outside parties, each in a process of its own -------------------------------------------------

class Party:
    """A child process that serves until stopped and then hands back what it saw."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.ready, self.stop_event, self.out = ctx.Event(), ctx.Event(), ctx.Queue()
        self.count = ctx.Value("i", 0)  # what it has taken so far
        self.proc = ctx.Process(target=target, daemon=True,
                                args=(*args, self.ready, self.stop_event, self.out, self.count))
        self.seen: list[Any] = []

    def start(self, timeout_s: float = 30) -> Party:
        self.proc.start()
        if not self.ready.wait(timeout_s):
            raise RuntimeError(f"{self.proc.name} did not start")
        return self

    def finish(self) -> list[Any]:
        self.stop_event.set()
        self.seen = self.out.get(timeout=60)
        self.proc.join(10)
        return self.seen

    def kill(self) -> None:
        self.stop_event.set()
        if self.proc.is_alive():
            self.proc.terminate()


@contextmanager
def party(target: Callable[..., None], *args: Any) -> Iterator[Party]:
    started = Party(target, *args).start()
    try:
        yield started
    finally:
        started.kill()


def hook_receiver(port: int, secrets: dict[str, str], ready: Any, stop: Any, out: Any,
                  count: Any) -> None:
    """A storefront's receiver on 127.0.0.1:`port`: each path's deliveries verified with the
    Standard Webhooks reference library and that path's secret (200 if they verify, 400 if
    not); at `stop`, [(path, webhook-id, received at, verified)]."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from standardwebhooks import Webhook, WebhookVerificationError

    verifiers = {path: Webhook(secret) for path, secret in secrets.items()}
    seen: list[tuple[str, str, float, bool]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()  # small answers go at once (no Nagle wait for the client's ACK)
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            at = time.time()
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                verifiers[self.path].verify(body, headers)
                ok = True
            except (KeyError, WebhookVerificationError):
                ok = False
            with lock:
                seen.append((self.path, headers.get("webhook-id", ""), at, ok))
                if ok:
                    count.value += 1
            self.send_response(200 if ok else 400)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    stop.wait()
    server.shutdown()
    with lock:
        out.put(list(seen))


def smtp_inbox(port: int, ready: Any, stop: Any, out: Any, count: Any) -> None:
    """An SMTP server (aiosmtpd) on 127.0.0.1:`port` accepting every message; at `stop`,
    [(Message-ID, Subject, accepted at)] — the time just before its 250 answer."""
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    seen: list[tuple[str, str, float]] = []
    parser = BytesHeaderParser()

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            headers = parser.parsebytes(envelope.content)
            seen.append((str(headers["Message-ID"]), str(headers["Subject"]), time.time()))
            count.value += 1
            return "250 OK"

    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    out.put(list(seen))
