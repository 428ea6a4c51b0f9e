"""The composition root of `tote serve`: database, gateway, saga worker, gRPC and webhooks."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from core.persistence import migrate
from core.persistence.db import Database
from core.saga.order import OrderSagaTimes, order_saga
from core.service.outbox import table_consumers
from server.adapters.carrier import CarrierClient
from server.adapters.gateway import PaymentGateway
from server.auth import AuthInterceptor, TokenCache
from server.context import ServerContext
from server.dbexec import DbExecutor
from server.http_serve import AsgiServer, serve_asgi
from server.hub import EventHub
from server.metrics import Metrics, RpcMetricsInterceptor
from server.notifier import Notifier
from server.outbox import ConsumerWorker, TableConsumer, open_consumers
from server.packing import Packer
from server.relay import NatsRelay
from server.saga import SagaRunner
from server.servicers.catalog import CatalogServicer, InventoryServicer
from server.servicers.fulfillment import FulfillmentServicer
from server.servicers.notifications import NotificationServicer
from server.servicers.orders import OrderServicer
from server.servicers.orders import add_to_server as add_order_service
from server.servicers.shipping import ShippingServicer
from server.servicers.webhooks import WebhookServicer
from server.settings import Settings, split_hostport
from server.settlement import SettlementWorker
from server.storefront_hooks import StorefrontHooks
from server.tls import server_credentials, webhook_sender_trust
from server.tracking import TrackingWorker
from server.watching import quiet_client_gone
from server.webhooks import create_webhook_app
from tote.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    fulfillment_pb2,
    fulfillment_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
    notifications_pb2,
    notifications_pb2_grpc,
    orders_pb2,
    shipping_pb2,
    shipping_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)

if TYPE_CHECKING:
    from sandbox.app import Sandbox

log = logging.getLogger(__name__)

SERVICES = (
    orders_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
    catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
    inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,
    fulfillment_pb2.DESCRIPTOR.services_by_name["FulfillmentService"].full_name,
    shipping_pb2.DESCRIPTOR.services_by_name["ShippingService"].full_name,
    notifications_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name,
    webhooks_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name,
)


@dataclass
class Running:
    """A started server: its addresses and parts (tests and the demo use these)."""

    settings: Settings
    db: Database
    dbx: DbExecutor
    grpc_server: aio.Server
    grpc_port: int
    webhooks: AsgiServer
    sandbox: Sandbox | None
    gateway: PaymentGateway
    carrier: CarrierClient
    saga: SagaRunner
    hub: EventHub
    health: health.aio.HealthServicer
    packer: Packer | None = None
    # Carrier tracking polls and settlement (each with start() and stop()).
    workers: list[Any] = field(default_factory=list)
    tokens: TokenCache | None = None
    # --metrics-listen: the metrics and their HTTP server (None: not served).
    metrics: Metrics | None = None
    metrics_server: AsgiServer | None = None
    # Storefront webhooks' sender (None: no signing key, webhooks off).
    storefront_hooks: StorefrontHooks | None = None

    @property
    def grpc_address(self) -> str:
        host, _ = split_hostport(self.settings.listen)
        return f"{host}:{self.grpc_port}"

    @property
    def metrics_url(self) -> str | None:
        """Where Prometheus scrapes this server, e.g. http://127.0.0.1:9101/metrics."""
        return None if self.metrics_server is None else f"{self.metrics_server.url}/metrics"

    async def stop(self, grace_s: float | None = None) -> None:
        """Drain in-flight RPCs, stop the saga worker (state resumes on next start), close."""
        grace = self.settings.grace_s if grace_s is None else grace_s
        await _stage("health", self.health.enter_graceful_shutdown())
        await _stage("grpc drain", self.grpc_server.stop(grace), grace + 5)
        if self.packer is not None:
            await _stage("packing worker", self.packer.stop())
        for worker in self.workers:
            await _stage(worker.name, worker.stop())
        if self.storefront_hooks is not None:
            await _stage("storefront webhooks", self.storefront_hooks.stop())
        await _stage("saga worker", self.saga.stop())
        if self.tokens is not None:
            await _stage("token watcher", self.tokens.stop())
        await _stage("event hub", self.hub.stop())
        await _stage("webhook endpoint", self.webhooks.stop())
        if self.metrics_server is not None:  # last of the servers: it tells how the drain went
            await _stage("metrics endpoint", self.metrics_server.stop())
        await _stage("gateway client", self.gateway.aclose())
        await _stage("carrier client", self.carrier.aclose())
        if self.sandbox is not None:
            await _stage("sandbox", self.sandbox.stop())
        await _stage("database", asyncio.to_thread(self.dbx.shutdown))
        self.db.dispose()


async def _stage(name: str, work: Awaitable[object], timeout_s: float = 10.0) -> None:
    """One step of the shutdown, bounded: a step that hangs is logged and left behind."""
    try:
        await asyncio.wait_for(work, timeout_s)
    except TimeoutError:
        log.error("shutdown: %s did not finish within %.0f s; going on without it",
                  name, timeout_s)


def _notify_sandbox(sandbox: Sandbox, settings: Settings, webhooks_url: str) -> None:
    if settings.tls is None:
        sandbox.set_notify_url(f"{webhooks_url}/webhooks/gateway")
    elif settings.tls.client_ca:
        # The sandbox has no client certificate: its webhooks would be refused; tote polls.
        log.warning("sandbox webhooks are off: the webhook endpoint requires a client "
                    "certificate (--tls-client-ca); tote polls the sandbox instead")
    else:
        sandbox.set_notify_url(f"{webhooks_url}/webhooks/gateway",
                               verify=webhook_sender_trust(settings.tls))


def prepare_database(settings: Settings) -> Database:
    """Open the database; migrate an empty SQLite file; refuse an unmigrated PostgreSQL."""
    db = Database(settings.db_url, sqlite_synchronous=settings.sqlite_synchronous,
                  options=settings.db)
    if db.is_sqlite:
        migrate.upgrade(db.url)
    elif migrate.is_empty(db):
        raise SystemExit(f"{db.url} has no tote schema yet: run `tote db upgrade --db URL` first")
    return db


async def start(settings: Settings) -> Running:
    """Start every part of `tote serve` on the running loop."""
    if not settings.webhook_secret:
        settings = replace(settings, webhook_secret=secrets.token_bytes(32))
    db = await asyncio.to_thread(prepare_database, settings)
    metrics = Metrics() if settings.metrics_listen else None
    # Woken after each local commit: the event hub, the outbox consumers, the notifier.
    woken: list[EventHub | ConsumerWorker | Notifier] = []

    def committed() -> None:
        for part in woken:
            part.wake()

    dbx = DbExecutor(db, on_commit=committed, writer=settings.sqlite_writer,
                     config=settings.handler_config(), metrics=metrics)
    # First of the listeners: a bad --metrics-listen stops the start before anything runs.
    metrics_server = await _serve_metrics(metrics, settings) if metrics is not None else None
    hub = EventHub(dbx, buffer_events=settings.watch_buffer_events)
    woken.append(hub)

    sandbox = None
    gateway_url = settings.gateway_url
    if settings.sandbox:
        # The sandbox is a tool beside the server (sandbox/), loaded only when asked for.
        from sandbox.app import start_sandbox

        host, port = split_hostport(settings.sandbox_listen)
        sandbox = await start_sandbox(host, port, notify_url=None,
                                      webhook_secret=settings.webhook_secret,
                                      latency_ms=settings.sandbox_latency_ms)
        gateway_url = gateway_url or sandbox.url
    if not gateway_url:
        raise SystemExit("no payment gateway: pass --gateway-url URL, or --sandbox to run one")
    gateway = PaymentGateway(gateway_url, timeout_s=settings.gateway_timeout_s,
                             max_attempts=settings.gateway_attempts,
                             backoff_initial_s=settings.gateway_backoff_s)
    times = OrderSagaTimes(settings.retry_later_s, settings.upi_poll_interval_s,
                           settings.orders.upi_expiry)
    saga = SagaRunner(dbx, order_saga(dbx, gateway, times), settings)
    carrier_url = settings.carrier_url or (sandbox.url if sandbox is not None else None)
    if not carrier_url:
        raise SystemExit("no carrier: pass --carrier-url URL, or --sandbox to run one")
    carrier = CarrierClient(carrier_url, timeout_s=settings.gateway_timeout_s,
                            max_attempts=settings.gateway_attempts,
                            backoff_initial_s=settings.gateway_backoff_s)
    ctx = ServerContext(dbx=dbx, saga=saga, hub=hub, settings=settings, gateway=gateway,
                        carrier=carrier)
    ctx.packer = Packer(dbx, gateway, carrier, settings)

    host, port = split_hostport(settings.webhook_listen)
    fulfillment = settings.fulfillment
    lease = settings.orders.saga_lease  # the one lease over every worker's claims
    tracking = TrackingWorker(dbx, carrier, fulfillment.tracking_poll_s, lease)
    workers: list[Any] = [tracking, SettlementWorker(
        dbx, gateway, fulfillment.settlement_interval_s, lease)]
    consumers = _outbox_consumers(dbx, settings)
    workers += consumers
    woken += consumers
    # Customer notifications (issue 16 C): the sender runs when email or SMS is configured;
    # it is woken after every commit (the rows it sends are committed by the outbox consumer).
    notifier = Notifier(dbx, settings.notify, lease) if settings.notify.enabled else None
    if notifier is not None:
        woken.append(notifier)
    webhooks = await serve_asgi(create_webhook_app(settings.webhook_secret, saga,
                                                   tracking=tracking.apply_webhook), host, port,
                                limits=settings.webhook_limits, tls=settings.tls)
    if sandbox is not None:
        _notify_sandbox(sandbox, settings, webhooks.url)

    quiet_client_gone()
    tokens = TokenCache(dbx, settings.rate_limit)
    await tokens.start()
    # The metrics interceptor comes first, so it sees the calls auth refuses too.
    interceptors: list[aio.ServerInterceptor] = [AuthInterceptor(tokens)]
    if metrics is not None:
        interceptors.insert(0, RpcMetricsInterceptor(metrics))
    server = aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    add_order_service(OrderServicer(dbx, saga, hub, settings), server)
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(dbx), server)
    inventory_pb2_grpc.add_InventoryServiceServicer_to_server(InventoryServicer(dbx), server)
    fulfillment_pb2_grpc.add_FulfillmentServiceServicer_to_server(
        FulfillmentServicer(ctx), server)
    shipping_pb2_grpc.add_ShippingServiceServicer_to_server(ShippingServicer(ctx), server)
    notifications_pb2_grpc.add_NotificationServiceServicer_to_server(
        NotificationServicer(dbx), server)
    # Storefront webhooks: sent only with a signing key (the servicer says how to set one).
    hooks = None
    if settings.webhook_signing_key is not None:
        hooks = StorefrontHooks(dbx, settings.webhook_signing_key,
                                settings.webhook_retry_schedule,
                                allow_private=settings.webhooks_allow_private,
                                interval_s=settings.webhook_poll_s, metrics=metrics)
    webhooks_pb2_grpc.add_WebhookServiceServicer_to_server(WebhookServicer(
        dbx, settings.webhook_signing_key, settings.webhooks_allow_private,
        hooks.wake if hooks is not None else None), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    grpc_port = (server.add_secure_port(settings.listen, server_credentials(settings.tls))
                 if settings.tls else server.add_insecure_port(settings.listen))
    if grpc_port == 0:
        raise SystemExit(f"cannot listen on {settings.listen}: is another server there?")
    if metrics is not None:
        metrics.watch(dbx, saga)
        saga.on_takeover = ctx.packer.on_takeover = metrics.lease_taken_over
        for worker in workers:
            worker.lease.on_takeover = metrics.lease_taken_over  # (before the notifier joins)
        for consumer in consumers:
            consumer.metrics = metrics
    # Before the first order: a consumer new to this database starts at the newest event.
    await open_consumers(dbx, [c.consumer for c in consumers])
    await server.start()
    await hub.start()
    await saga.start()
    await ctx.packer.start()
    for worker in workers:
        await worker.start()
    if notifier is not None:
        await notifier.start()
        workers.append(notifier)  # (stopped with the others)
    if hooks is not None:
        await hooks.start()
    for name in ("", *SERVICES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return Running(settings, db, dbx, server, grpc_port, webhooks, sandbox, gateway, carrier,
                   saga, hub, health_servicer, ctx.packer, workers, tokens, metrics,
                   metrics_server, hooks)


def _outbox_consumers(dbx: DbExecutor, settings: Settings) -> list[ConsumerWorker]:
    """The outbox consumers of this server: the table consumers (core/service/outbox.py) and,
    with --nats-url, the NATS relay."""
    lease = settings.orders.saga_lease  # the one lease over every worker's claims
    consumers: list[ConsumerWorker] = [
        TableConsumer(dbx, name, settings.outbox_interval_s, lease)
        for name in table_consumers(settings.extra_consumers)]
    if settings.nats_url:
        consumers.append(NatsRelay(dbx, settings.nats_url, settings.outbox_interval_s, lease))
    return consumers


async def _serve_metrics(metrics: Metrics, settings: Settings) -> AsgiServer:
    """/metrics on --metrics-listen, with the webhook endpoint's limits and TLS."""
    try:
        host, port = split_hostport(settings.metrics_listen or "")
        return await serve_asgi(metrics.asgi_app(), host, port, limits=settings.webhook_limits,
                                tls=settings.tls)
    except (OSError, ValueError) as exc:  # taken, not this machine's, not HOST:PORT
        raise SystemExit(f"cannot serve metrics on --metrics-listen {settings.metrics_listen}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None

