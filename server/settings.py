"""tote serve's configuration: flags, else TOTE_* environment variables, else defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from core.domain.shipping import RateTable
from core.domain.webhooks import DEFAULT_RETRY_SCHEDULE, parse_retry_schedule
from core.persistence.pg_engine import DbOptions
from core.service.deps import HandlerConfig
from core.service.orders import OrderSettings
from core.service.routing import RoutingRules


@dataclass(frozen=True)
class HttpLimits:
    """How much an HTTP client may hold of the server (see server/http_guard.py)."""

    # A request (headers and body) must arrive whole within this of the connection opening.
    request_timeout_s: float = 10.0
    # Connections at once; a request past it is answered 503 (uvicorn's limit_concurrency).
    max_connections: int = 100
    # An idle keep-alive connection is closed after this.
    keep_alive_s: int = 5


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the server's certificate chain and key, and the CA its clients must show."""

    cert: str
    key: str
    client_ca: str | None = None


# Customer notifications (server/notifier.py): issue 16, part C.
DEFAULT_SCHEDULE = (10.0, 60.0, 300.0, 1800.0, 7200.0)


def parse_schedule(text: str) -> tuple[float, ...]:
    """'10s,1m,5m,30m,2h' → seconds between attempts (the last delay leads to the last try)."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    out = []
    for part in (p.strip() for p in text.split(",")):
        unit = next((u for u in ("ms", "s", "m", "h", "d") if part.endswith(u)), None)
        number = part[: -len(unit)] if unit else part
        try:
            value = float(number) * units[unit or "s"]
        except ValueError:
            raise ValueError(f"{part!r} is not a delay such as 10s, 5m or 2h") from None
        if value < 0:
            raise ValueError(f"{part!r}: a delay is not negative")
        out.append(value)
    if not out:
        raise ValueError("the retry schedule lists no delay")
    return tuple(out)


@dataclass(frozen=True)
class NotifySettings:
    """tote serve's customer-notification flags; no --smtp-url and no --sms-url: none sent."""

    smtp_url: str | None = None
    mail_from: str = "tote <orders@localhost>"
    # From TOTE_SMTP_PASSWORD or --smtp-password-file; never in a repr or a log.
    smtp_password: str | None = field(default=None, repr=False)
    sms_url: str | None = None
    templates_dir: str | None = None
    tracking_link: str = "https://track.example/{carrier}/{tracking_number}"
    retry_schedule: tuple[float, ...] = field(default=DEFAULT_SCHEDULE)
    interval_s: float = 1.0
    batch: int = 32

    @property
    def enabled(self) -> bool:
        return bool(self.smtp_url or self.sms_url)


@dataclass(frozen=True)
class Settings:
    db_url: str | None = None
    listen: str = "127.0.0.1:50051"
    webhook_listen: str = "127.0.0.1:8081"
    sandbox: bool = False
    sandbox_listen: str = "127.0.0.1:8090"
    gateway_url: str | None = None
    carrier_url: str | None = None
    webhook_secret: bytes = b""
    sandbox_latency_ms: int = 0
    orders: OrderSettings = field(default_factory=OrderSettings)
    sqlite_synchronous: str = "FULL"
    # SQLite's one writer: in a process of its own (off the event loop's GIL) or a thread.
    sqlite_writer: str = "process"
    gateway_timeout_s: float = 5.0
    gateway_attempts: int = 4
    gateway_backoff_s: float = 0.1
    # How often the saga worker looks for due work (resumed sagas, UPI polls, retries).
    saga_scan_interval_s: float = 0.5
    # Orders first (server/intake.py): while PlaceOrder calls arrive back to back, saga passes
    # start at saga_min_rate a second; the rest wait for a quiet moment, at most
    # saga_max_wait_s.
    orders_first: bool = True
    saga_min_rate: float = 20.0
    saga_max_wait_s: float = 10.0
    upi_poll_interval_s: float = 5.0
    retry_later_s: float = 2.0
    grace_s: float = 10.0
    # Every token's rate limit (calls/s, burst) unless it has its own; None: not limited.
    rate_limit: tuple[float, int] | None = None
    # Watch streams (server/watching.py): open at once per token; recent events the hub keeps
    # for WatchOrders watchers (one falling further behind is told to resume); history read
    # this many events at a time.
    max_streams_per_token: int = 16
    watch_buffer_events: int = 10_000
    watch_replay_page: int = 100
    # History events a second all replays together may send: 1 000 clients replaying from the
    # first event at once must not keep the event loop from every other call (bench/watchers.py:
    # at 10 000/s GetOrder's p99 was 75 ms during a burst, at 3 000/s 31 ms).
    watch_replay_rate: float = 3_000.0
    fulfillment: FulfillmentSettings = field(default_factory=lambda: FulfillmentSettings())
    webhook_limits: HttpLimits = field(default_factory=HttpLimits)
    # TLS for gRPC and the webhook endpoint; None: plaintext (loopback, development).
    tls: TlsFiles | None = None
    # PostgreSQL: the pool and the timeouts of this process's connections (SQLite: unused).
    db: DbOptions = field(default_factory=DbOptions)
    # Prometheus metrics at http://HOST:PORT/metrics; None: not served.
    metrics_listen: str | None = None
    # Customer notifications: email over SMTP, SMS through a provider (off unless configured).
    notify: NotifySettings = field(default_factory=NotifySettings)
    # Storefront webhooks (server/storefront_hooks.py): the key every endpoint's signing secret
    # is derived from (None: webhooks off), the waits after each failed attempt, whether a URL
    # may resolve to a private or loopback address, how often due deliveries are looked for.
    webhook_signing_key: bytes | None = None
    webhook_retry_schedule: tuple[float, ...] = parse_retry_schedule(DEFAULT_RETRY_SCHEDULE)
    webhooks_allow_private: bool = False
    webhook_poll_s: float = 0.25
    # Outbox consumers (server/outbox.py): how often each looks for events committed by other
    # replicas (local commits wake it at once); table consumers beyond
    # core/service/outbox.py's TABLE_CONSUMERS, as (name, "module:function") (tests add one).
    outbox_interval_s: float = 1.0
    # The NATS relay (server/relay.py): nats://HOST:PORT (may carry credentials: never logged);
    # None: off.
    nats_url: str | None = None
    extra_consumers: tuple[tuple[str, str], ...] = ()

    def handler_config(self) -> HandlerConfig:
        """The rules the command handlers read (core/service/deps.py)."""
        f = self.fulfillment
        return HandlerConfig(orders=self.orders,
                             routing=RoutingRules(f.local_tz, f.split_policy),
                             extra_consumers=self.extra_consumers)


@dataclass(frozen=True)
class FulfillmentSettings:
    """Routing, picking, packing, carrier and money rules of the second half of the saga."""

    # Routing: cut-off hours are local time (the promise itself is OrderSettings.promise_days).
    local_tz: str = "Asia/Kolkata"
    # An order no single FC can serve is split into shipments ("split") or waits ("backorder").
    split_policy: str = "split"
    # Picking: a task holds lines of up to this many orders / lines; untouched this long, it
    # goes back to the queue.
    pick_batch_orders: int = 4
    pick_batch_lines: int = 20
    pick_task_timeout_s: float = 600.0
    # Packing: the scale must read within this of the catalog weight (+ box tare).
    weight_tolerance_pct: int = 10
    weight_tolerance_min_g: int = 50
    # Carrier tracking is polled this often for parcels handed off (webhook fallback).
    tracking_poll_s: float = 30.0
    # Captured payments are settled with the gateway this often.
    settlement_interval_s: float = 60.0
    # Cash collected but not remitted after this many days is a discrepancy.
    cod_remit_days: int = 7


def order_settings(
    *, cod_limit_minor: int, upi_expiry_s: int, shipping_rates: str | None,
    upi_payee_vpa: str, saga_lease_s: int = 15, promise_days: int = 3,
) -> OrderSettings:
    """OrderSettings from plain values (the CLI's flags)."""
    rates = RateTable.parse(shipping_rates) if shipping_rates else RateTable()
    return OrderSettings(
        rate_table=rates, cod_limit_minor=cod_limit_minor,
        upi_expiry=timedelta(seconds=upi_expiry_s), upi_payee_vpa=upi_payee_vpa,
        saga_lease=timedelta(seconds=saga_lease_s), promise_days=promise_days,
    )


def split_hostport(value: str) -> tuple[str, int]:
    """'HOST:PORT' → (host, port); a clear error otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:50051)")
    if int(port) > 65535:  # the socket layer would quietly take it modulo 65536
        raise ValueError(f"{value!r}: a port is 0 to 65535")
    return host.strip("[]") or "127.0.0.1", int(port)
