"""Prometheus metrics of one `tote serve` (`--metrics-listen HOST:PORT`, served at /metrics).

Each server has a registry of its own (`Metrics`), not prometheus_client's process-wide
default: the suite and the demo run several servers in one Python process, and with one shared
registry each would report the others' calls, the saga gauges would be whichever server set
them last, and registering the metrics a second time would fail. The process collectors (CPU,
memory, file descriptors, GC) are registered in each registry; they read /proc/self only when
scraped. Without --metrics-listen no Metrics exists and every hook is a `None` check.

Label values come from bounded sets only (method names the server registered, status code
names, "read"/"write", worker names): never an order id, token, SKU or customer.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    make_asgi_app,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.persistence.tables import ORDERS

if TYPE_CHECKING:
    from server.dbexec import DbExecutor
    from server.saga import SagaRunner

log = logging.getLogger(__name__)

# RPCs: a GetOrder takes a millisecond or two, a PlaceOrder a few; a watch stream lives for
# minutes (its whole life is one observation, so the top buckets are wide).
RPC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
               10.0, 30.0, 60.0, 300.0, 1800.0)
# Relay lag (an event's commit to JetStream's acknowledgement): milliseconds when it keeps up,
# minutes after NATS was away.
RELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                 300.0, 1800.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
              10.0, 30.0)
# The workers that claim work under a lease (README: "Replicas"); counted from zero so that
# rate() sees the first takeover.
LEASE_WORKERS = ("saga", "packing", "tracking", "settlement")
# A method the server does not serve: its name is the caller's, so it is not a label value.
UNKNOWN_METHOD = "unknown"
_CODE_NAMES: dict[Any, str] = {}
for _code in grpc.StatusCode:
    _CODE_NAMES[_code] = _code.name
    _CODE_NAMES[_code.value[0]] = _code.name  # grpc.aio may report the number


class Metrics:
    """One server's metrics and the registry they are served from."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.rpc_duration = Histogram(
            "tote_rpc_duration_seconds",
            "gRPC calls handled: time from the call's arrival to its status (a stream: its "
            "whole life), by method and status code", ("method", "code"),
            buckets=RPC_BUCKETS, registry=r)
        # Streams only: a unary call's concurrency is rate × duration, from the histogram.
        self.streams_open = Gauge("tote_rpc_streams_open",
                                  "server streams open now (WatchOrder, WatchOrders), by method",
                                  ("method",), registry=r)
        self.saga_waiting = Gauge(
            "tote_saga_waiting",
            "order sagas due in the database and claimed by no replica (the same figure on "
            "every replica: read it with max, not sum); NaN when the database did not answer",
            registry=r)
        self.saga_scheduled = Gauge(
            "tote_saga_scheduled",
            "order sagas with work ahead: due now, leased by a replica, or due later (a "
            "retry, a UPI poll); database-wide like tote_saga_waiting", registry=r)
        self.saga_in_flight = Gauge("tote_saga_in_flight",
                                    "saga passes this replica is running now", registry=r)
        self.saga_queued = Gauge("tote_saga_queued",
                                 "sagas this replica has claimed and queued for a pass",
                                 registry=r)
        self.lease_takeovers = Counter(
            "tote_lease_takeovers",
            "claims of work whose lease another replica let expire (it died or stalled), "
            "by worker", ("worker",), registry=r)
        for worker in LEASE_WORKERS:
            self.lease_takeovers.labels(worker)
        self.db_transaction = Histogram(
            "tote_db_transaction_seconds",
            "database transactions, retries included (SQLite's writer: one group commit)",
            ("kind",), buckets=DB_BUCKETS, registry=r)
        self._db_tx = {kind: self.db_transaction.labels(kind) for kind in ("read", "write")}
        self.db_retries = Counter("tote_db_retries",
                                  "transactions tried again after a transient database error "
                                  "(busy, deadlock, serialization, lost connection)",
                                  registry=r)
        self.writer_queue_depth = Gauge(
            "tote_sqlite_writer_queue_depth",
            "SQLite: write jobs submitted to the one writer and not yet answered", registry=r)
        self.outbox_position = Gauge(
            "tote_outbox_position",
            "the last event id each outbox consumer has handled (its durable position), as "
            "this replica last saw it", ("consumer",), registry=r)
        self.outbox_lag = Gauge(
            "tote_outbox_lag_events",
            "events committed that the outbox consumer has not handled yet (newest event id "
            "less its position; read it with min across replicas: the lease holder's is live)",
            ("consumer",), registry=r)
        self.relay_lag = Histogram(
            "tote_relay_lag_seconds",
            "NATS relay: from an event's commit to JetStream's acknowledgement of its publish",
            buckets=RELAY_BUCKETS, registry=r)
        self.relay_published = Counter(
            "tote_relay_published", "events published to NATS JetStream and acknowledged",
            registry=r)
        self.relay_failures = Counter(
            "tote_relay_failures",
            "NATS relay batches that failed (NATS away, a timeout): retried with backoff",
            registry=r)
        self._rpc: dict[tuple[str, str], Any] = {}  # (method, code) → its histogram child
        self._dbx: DbExecutor | None = None
        # Storefront webhooks (server/storefront_hooks.py): attempts by how the endpoint
        # answered (2xx…5xx, error: none) and what the delivery became (delivered, pending:
        # retried later, failed: given up); the time of each attempt to its answer's status.
        self.webhook_attempts = Counter(
            "tote_webhook_attempts",
            "storefront webhook attempts, by answer (2xx, 3xx, 4xx, 5xx, error) and the "
            "delivery's status after it (delivered, pending, failed)", ("result", "delivery"),
            registry=r)
        self.webhook_latency = Histogram(
            "tote_webhook_attempt_seconds",
            "storefront webhook attempts: from the request's start to the answer's status line "
            "(or the error)", buckets=DB_BUCKETS, registry=r)

    # -- hooks for the rest of the server -------------------------------------------------------

    def lease_taken_over(self, worker: str, n: int = 1) -> None:
        """Count n claims of `worker` (e.g. "saga") that took over another replica's lease."""
        if n > 0:
            self.lease_takeovers.labels(worker).inc(n)

    def consumer_at(self, consumer: str, position: int, newest: int) -> None:
        """The outbox consumer stands at `position`; the newest event is `newest`."""
        self.outbox_position.labels(consumer).set(position)
        self.outbox_lag.labels(consumer).set(max(0, newest - position))

    def db_transaction_done(self, kind: str, seconds: float) -> None:
        """One transaction ("read" or "write") took `seconds` (from any thread)."""
        self._db_tx[kind].observe(seconds)

    def db_retried(self, n: int = 1) -> None:
        """n transactions are being tried again (Database._retry, from any thread)."""
        self.db_retries.inc(n)

    def webhook_attempted(self, result: str, delivery: str, seconds: float) -> None:
        """One storefront webhook attempt: its answer, the delivery's status after, its time."""
        self.webhook_attempts.labels(result, delivery).inc()
        self.webhook_latency.observe(seconds)

    def watch(self, dbx: DbExecutor, saga: SagaRunner) -> None:
        """Read the saga queue and the writer's depth at each scrape; count the database's due
        sagas just before each scrape (serve() does that)."""
        self._dbx = dbx
        self.saga_in_flight.set_function(lambda: saga.in_flight)
        self.saga_queued.set_function(lambda: saga.backlog)
        depth = dbx.writer_queue_depth
        if depth is not None and dbx.db.is_sqlite:
            self.writer_queue_depth.set_function(depth)
        else:  # named for SQLite's writer (PostgreSQL's transactions are timed per group)
            self.registry.unregister(self.writer_queue_depth)

    async def refresh(self, timeout_s: float = 2.0) -> None:
        """Count the sagas in the database (one indexed count per scrape, off the loop)."""
        if self._dbx is None:
            return
        waiting: float
        scheduled: float
        try:
            waiting, scheduled = await asyncio.wait_for(
                self._dbx.read(_saga_counts, datetime.now(UTC)), timeout_s)
        except Exception as exc:  # noqa: BLE001 - a scrape still answers when the database won't
            log.debug("metrics: cannot count sagas: %s", exc)
            waiting = scheduled = math.nan
        self.saga_waiting.set(waiting)
        self.saga_scheduled.set(scheduled)

    # -- RPCs -----------------------------------------------------------------------------------

    def rpc_done(self, method: str, code: str, seconds: float) -> None:
        child = self._rpc.get((method, code))
        if child is None:
            child = self._rpc[(method, code)] = self.rpc_duration.labels(method, code)
        child.observe(seconds)

    def asgi_app(self) -> Callable[..., Awaitable[None]]:
        """/metrics in Prometheus' text format (or OpenMetrics, if asked); 404 elsewhere."""
        export = make_asgi_app(self.registry)

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            if scope["path"] != "/metrics" or scope["method"] not in ("GET", "HEAD"):
                await send({"type": "http.response.start", "status": 404,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body",
                            "body": b"not found: metrics are at /metrics\n"})
                return
            await self.refresh()
            await export(scope, receive, send)

        return app


def _saga_counts(session: Session, now: datetime) -> tuple[int, int]:
    """(due now, any due time): the few orders with a saga_due_at, found by its index (a
    count over every order would read a million rows at every scrape)."""
    due = ORDERS.c.saga_due_at
    row = session.execute(select(func.count().filter(due <= now), func.count())
                          .where(due.is_not(None))).one()
    return int(row[0]), int(row[1])


# -- the interceptor ----------------------------------------------------------------------------

# When the call arrived: set where the interceptor sees it, read where the handler ends (the
# same task), so that a token lookup done by the auth interceptor counts in the call's time.
_ARRIVED: contextvars.ContextVar[float] = contextvars.ContextVar("rpc_arrived")


def _code_name(context: aio.ServicerContext) -> str:
    """The status the handler ended with (an abort sets it); UNKNOWN if it just raised."""
    try:
        code = context.code()
    except Exception:  # noqa: BLE001 - an older grpcio without code()
        code = None
    return _CODE_NAMES.get(code, "UNKNOWN") if code is not None else "UNKNOWN"


class RpcMetricsInterceptor(aio.ServerInterceptor):
    """Times every call and counts it by method and status code.

    It is the outermost interceptor, apart from server/auth.py's AuthInterceptor: it wraps
    whatever handler that returns — the servicer's, or the refusal of an unknown token or a
    missing role — so refused calls are counted with their code too, and auth keeps its one
    job. Wrapped handlers are built once per handler, not per call.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._m = metrics
        self._wrapped: dict[int, tuple[Any, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        _ARRIVED.set(time.perf_counter())
        handler = await continuation(details)
        if handler is None:  # grpc answers UNIMPLEMENTED; the name is the caller's, not a label
            self._m.rpc_done(UNKNOWN_METHOD, "UNIMPLEMENTED", 0.0)
            return None
        hit = self._wrapped.get(id(handler))
        if hit is not None and hit[0] is handler:
            return hit[1]
        wrapped = _wrap(self._m, handler, details.method)
        # Auth's refusals are new handlers per call: the bound keeps them from piling up.
        if len(self._wrapped) >= 10_000:
            self._wrapped.clear()
        self._wrapped[id(handler)] = (handler, wrapped)
        return wrapped


def _wrap(m: Metrics, handler: Any, method: str) -> grpc.RpcMethodHandler:
    histogram = m.rpc_duration
    children: dict[str, Any] = {}  # code → this method's histogram child

    def done(code: str) -> None:
        child = children.get(code)
        if child is None:
            child = children[code] = histogram.labels(method, code)
        child.observe(time.perf_counter() - _ARRIVED.get(time.perf_counter()))

    def call(inner: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(request: Any, context: aio.ServicerContext) -> Any:
            code = "OK"
            try:
                return await inner(request, context)
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                code = _code_name(context)
                raise
            finally:
                done(code)
        return timed

    def stream(inner: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
        gauge = m.streams_open.labels(method)

        async def timed(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
            gauge.inc()
            code = "OK"
            try:
                async for item in inner(request, context):
                    yield item
            except (asyncio.CancelledError, GeneratorExit):
                code = "CANCELLED"  # the client went away (or the server is stopping)
                raise
            except BaseException:
                code = _code_name(context)
                raise
            finally:
                gauge.dec()
                done(code)
        return timed

    def either(inner: Any) -> Any:
        return stream(inner) if inspect.isasyncgenfunction(inner) else call(inner)

    kw = {"request_deserializer": handler.request_deserializer,
          "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(call(handler.unary_unary), **kw)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(either(handler.unary_stream), **kw)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(call(handler.stream_unary), **kw)
    return grpc.stream_stream_rpc_method_handler(either(handler.stream_stream), **kw)
