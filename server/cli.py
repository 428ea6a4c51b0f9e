"""The `tote` command line: serve, sandbox, db, token (and label, demo)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import zoneinfo
from collections.abc import Coroutine
from typing import Any

import click

from core.domain.webhooks import DEFAULT_RETRY_SCHEDULE, parse_retry_schedule
from core.persistence.pg_engine import DbOptions
from server.cli_common import DB_HELP, setup_logging
from server.notify_cli import notify_options
from server.settings import (
    FulfillmentSettings,
    HttpLimits,
    Settings,
    order_settings,
    split_hostport,
)
from server.tls_cli import TLS_FILE, serve_tls
from server.token_cli import rate_limit_option, token


@click.group()
@click.version_option(package_name="tote")
def cli() -> None:
    """tote — warehouse operations: the order saga, picking, packing, labels and carriers."""


@cli.command()
@click.option("--db", "db_url", envvar="TOTE_DB", help=DB_HELP)
@click.option("--listen", envvar="TOTE_LISTEN", default="127.0.0.1:50051", show_default=True,
              help="gRPC HOST:PORT (port 0: any free port)")
@click.option("--webhook-listen", envvar="TOTE_WEBHOOK_LISTEN", default="127.0.0.1:8081",
              show_default=True, help="where gateway and carrier webhooks arrive")
@click.option("--sandbox", is_flag=True, envvar="TOTE_SANDBOX",
              help="run the sandbox gateway/carrier in-process and use it")
@click.option("--sandbox-listen", envvar="TOTE_SANDBOX_LISTEN", default="127.0.0.1:8090",
              show_default=True)
@click.option("--sandbox-latency-ms", envvar="TOTE_SANDBOX_LATENCY_MS", default=0,
              type=click.IntRange(0, 60_000), help="delay every sandbox answer")
@click.option("--gateway-url", envvar="TOTE_GATEWAY_URL", help="payment gateway base URL")
@click.option("--carrier-url", envvar="TOTE_CARRIER_URL", help="carrier API base URL")
@click.option("--webhook-secret", envvar="TOTE_WEBHOOK_SECRET", default="",
              help="HMAC secret shared with the gateway (random per run with --sandbox); "
                   "a flag shows in ps: prefer the env variable or --webhook-secret-file")
@click.option("--webhook-secret-file", envvar="TOTE_WEBHOOK_SECRET_FILE",
              type=click.Path(dir_okay=False), help="read the webhook secret from this file")
@click.option("--cod-limit-minor", envvar="TOTE_COD_LIMIT_MINOR", default=5_000_000,
              type=click.IntRange(0), show_default=True,
              help="largest cash-on-delivery order total, in minor units")
@click.option("--upi-expiry-s", envvar="TOTE_UPI_EXPIRY_S", default=900, show_default=True,
              type=click.IntRange(1), help="seconds a UPI intent waits for approval")
@click.option("--upi-payee-vpa", envvar="TOTE_UPI_PAYEE_VPA", default="tote@sandbox",
              show_default=True)
@click.option("--shipping-rates", envvar="TOTE_SHIPPING_RATES",
              help="rate table 'UP_TO_G:FEE,...,+STEP_G:FEE' in minor units "
                   "(default 500:4000,2000:7000,5000:12000,+1000:2500)")
@click.option("--saga-lease-s", envvar="TOTE_SAGA_LEASE_S", default=15, show_default=True,
              type=click.IntRange(1),
              help="how long a replica owns work it claimed (a saga, a packing, a poll) before "
                   "another replica may take it over")
@click.option("--upi-poll-s", envvar="TOTE_UPI_POLL_S", default=5.0, show_default=True,
              type=click.FloatRange(0.05), help="how often pending UPI intents are polled")
@click.option("--tracking-poll-s", envvar="TOTE_TRACKING_POLL_S", default=30.0,
              type=click.FloatRange(min=0.1), show_default=True,
              help="how often the carrier is asked about parcels on their way")
@click.option("--settlement-interval-s", envvar="TOTE_SETTLEMENT_INTERVAL_S", default=60.0,
              type=click.FloatRange(min=0.1), show_default=True,
              help="how often captured payments are settled")
@click.option("--cod-remit-days", envvar="TOTE_COD_REMIT_DAYS", default=7, show_default=True,
              type=click.IntRange(min=0),
              help="COD cash not remitted after this many days is a discrepancy")
@click.option("--promise-days", envvar="TOTE_PROMISE_DAYS", default=3, show_default=True,
              type=click.IntRange(1, 60), help="delivery promised this many days after placement")
@click.option("--local-tz", envvar="TOTE_LOCAL_TZ", default="Asia/Kolkata", show_default=True,
              help="time zone of the FCs' cut-off hours")
@click.option("--pick-task-timeout-s", envvar="TOTE_PICK_TASK_TIMEOUT_S", default=600.0,
              type=click.FloatRange(min=1), show_default=True,
              help="a pick task untouched this long goes back to the queue")
@click.option("--weight-tolerance-pct", envvar="TOTE_WEIGHT_TOLERANCE_PCT", default=10,
              type=click.IntRange(0, 100), show_default=True,
              help="how far a packed box may weigh from the catalog weight")
@click.option("--sqlite-synchronous", envvar="TOTE_SQLITE_SYNCHRONOUS", default="FULL",
              type=click.Choice(["NORMAL", "FULL"], case_sensitive=False), show_default=True)
@click.option("--sqlite-writer", envvar="TOTE_SQLITE_WRITER", default="process",
              type=click.Choice(["process", "thread"]), show_default=True,
              help="where SQLite's one writer runs: a process of its own, or a thread")
@click.option("--orders-first/--no-orders-first", envvar="TOTE_ORDERS_FIRST", default=True,
              show_default=True,
              help="while PlaceOrder calls arrive, new saga passes give way to them")
@click.option("--saga-min-rate", envvar="TOTE_SAGA_MIN_RATE", default=20.0, show_default=True,
              type=click.FloatRange(min=0.1),
              help="saga passes started per second even while orders keep arriving")
@click.option("--saga-max-wait-s", envvar="TOTE_SAGA_MAX_WAIT_S", default=10.0,
              show_default=True, type=click.FloatRange(min=0.1),
              help="longest a saga gives way to arriving orders before it starts anyway")
@click.option("--rate-limit", envvar="TOTE_RATE_LIMIT", metavar="RPS[:BURST]|off",
              callback=rate_limit_option,
              help="every token's rate limit, per replica, unless the token has its own "
                   "(default off)")
@click.option("--webhook-timeout-s", envvar="TOTE_WEBHOOK_TIMEOUT_S", default=10.0,
              type=click.FloatRange(min=0.5), show_default=True,
              help="a webhook request (headers and body) must arrive within this, or its "
                   "connection is closed")
@click.option("--webhook-max-connections", envvar="TOTE_WEBHOOK_MAX_CONNECTIONS", default=100,
              type=click.IntRange(1), show_default=True,
              help="webhook connections at once; a request past it is answered 503")
@click.option("--tls-cert", envvar="TOTE_TLS_CERT", type=TLS_FILE,
              help="server certificate (PEM, chain) for gRPC and webhooks: TLS only")
@click.option("--tls-key", envvar="TOTE_TLS_KEY", type=TLS_FILE,
              help="the certificate's private key (PEM); never printed or logged")
@click.option("--tls-client-ca", envvar="TOTE_TLS_CLIENT_CA", type=TLS_FILE,
              help="require client certificates signed by this CA (mutual TLS)")
@click.option("--max-streams-per-token", envvar="TOTE_MAX_STREAMS_PER_TOKEN", default=16,
              show_default=True, type=click.IntRange(min=1),
              help="WatchOrder/WatchOrders streams one token may hold open at once")
@click.option("--watch-buffer-events", envvar="TOTE_WATCH_BUFFER_EVENTS", default=10_000,
              show_default=True, type=click.IntRange(min=1),
              help="recent events kept for WatchOrders; a watcher further behind is told to "
                   "resume (ABORTED, tote-resume-after)")
@click.option("--watch-replay-page", envvar="TOTE_WATCH_REPLAY_PAGE", default=100,
              show_default=True, type=click.IntRange(min=1),
              help="events a watch stream reads from the database at a time")
@click.option("--watch-replay-rate", envvar="TOTE_WATCH_REPLAY_RATE", default=3000.0,
              show_default=True, type=click.FloatRange(min=1),
              help="history events a second all watch replays together may send")
@click.option("--db-pool-size", envvar="TOTE_DB_POOL_SIZE", default=10, show_default=True,
              type=click.IntRange(2),
              help="PostgreSQL: the most connections this replica opens (one writes, the "
                   "rest read)")
@click.option("--db-statement-timeout-s", envvar="TOTE_DB_STATEMENT_TIMEOUT_S", default=30.0,
              show_default=True, type=click.FloatRange(min=0.1),
              help="PostgreSQL: a statement running longer is cancelled")
@click.option("--db-idle-in-transaction-timeout-s", envvar="TOTE_DB_IDLE_IN_TRANSACTION_TIMEOUT_S",
              default=60.0, show_default=True, type=click.FloatRange(min=0.1),
              help="PostgreSQL: a transaction left idle this long is ended by the server")
@click.option("--db-prepared-statements/--no-db-prepared-statements",
              envvar="TOTE_DB_PREPARED_STATEMENTS", default=True, show_default=True,
              help="PostgreSQL: server-side prepared statements (off behind PgBouncer in "
                   "transaction-pooling mode)")
@click.option("--metrics-listen", envvar="TOTE_METRICS_LISTEN", metavar="HOST:PORT",
              help="serve Prometheus metrics at http://HOST:PORT/metrics (default: not served)")
@click.option("--webhook-signing-key-file", envvar="TOTE_WEBHOOK_SIGNING_KEY_FILE",
              type=click.Path(dir_okay=False),
              help="storefront webhooks: the file holding the key every endpoint's signing "
                   "secret is derived from (or the key itself in TOTE_WEBHOOK_SIGNING_KEY); "
                   "without one, storefront webhooks are off")
@click.option("--webhook-retry-schedule", envvar="TOTE_WEBHOOK_RETRY_SCHEDULE",
              default=DEFAULT_RETRY_SCHEDULE, show_default=True,
              help="storefront webhooks: the waits after each failed attempt (ms, s, m, h, d); "
                   "after the last, the delivery fails")
@click.option("--webhooks-allow-private", is_flag=True, envvar="TOTE_WEBHOOKS_ALLOW_PRIVATE",
              help="storefront webhooks may call private, loopback and link-local addresses "
                   "(tests, on-premise storefronts)")
@click.option("--outbox-interval-s", envvar="TOTE_OUTBOX_INTERVAL_S", default=1.0,
              show_default=True, type=click.FloatRange(min=0.01),
              help="how often each outbox consumer (the NATS relay, webhooks, notifications) "
                   "looks for events other replicas committed; local commits wake it at once")
@click.option("--nats-url", envvar="TOTE_NATS_URL", metavar="nats://HOST:PORT",
              help="publish every order event to NATS JetStream (stream TOTE_EVENTS; default "
                   "off); a URL with a user and password or token: pass it in TOTE_NATS_URL, "
                   "a flag shows in ps")
@click.option("--log-level", envvar="TOTE_LOG_LEVEL", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@notify_options
def serve(db_url, listen, webhook_listen, sandbox, sandbox_listen, sandbox_latency_ms,
          gateway_url, carrier_url, webhook_secret, webhook_secret_file, cod_limit_minor,
          upi_expiry_s,
          upi_payee_vpa, shipping_rates, saga_lease_s, upi_poll_s, tracking_poll_s,
          settlement_interval_s, cod_remit_days, promise_days, local_tz, pick_task_timeout_s,
          weight_tolerance_pct, sqlite_synchronous, sqlite_writer, orders_first, saga_min_rate,
          saga_max_wait_s, rate_limit, webhook_timeout_s, webhook_max_connections, tls_cert,
          tls_key, tls_client_ca, max_streams_per_token, watch_buffer_events, watch_replay_page,
          watch_replay_rate, db_pool_size, db_statement_timeout_s,
          db_idle_in_transaction_timeout_s, db_prepared_statements, metrics_listen,
          webhook_signing_key_file, webhook_retry_schedule, webhooks_allow_private,
          outbox_interval_s, nats_url, log_level, notify):
    """Run the fulfillment server (gRPC + webhooks; SQLite by default)."""
    setup_logging(log_level)
    tls = serve_tls(tls_cert, tls_key, tls_client_ca)
    webhook_secret = _serve_webhook_secret(webhook_secret, webhook_secret_file, sandbox)
    signing_key = _webhook_signing_key(webhook_signing_key_file)
    try:
        retry_schedule = parse_retry_schedule(webhook_retry_schedule)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--webhook-retry-schedule") from None
    for flag, value in (("--listen", listen), ("--webhook-listen", webhook_listen),
                        ("--sandbox-listen", sandbox_listen), ("--metrics-listen", metrics_listen)):
        try:
            if value is not None:
                split_hostport(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=flag) from None
    try:
        zoneinfo.ZoneInfo(local_tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"--local-tz {local_tz!r} is not a time zone such as "
                                 "Asia/Kolkata") from None
    try:
        orders = order_settings(cod_limit_minor=cod_limit_minor, upi_expiry_s=upi_expiry_s,
                                shipping_rates=shipping_rates, upi_payee_vpa=upi_payee_vpa,
                                saga_lease_s=saga_lease_s, promise_days=promise_days)
    except Exception as exc:  # a bad rate table
        raise click.BadParameter(str(exc)) from None
    settings = Settings(
        db_url=db_url, listen=listen, webhook_listen=webhook_listen, sandbox=sandbox,
        sandbox_listen=sandbox_listen, sandbox_latency_ms=sandbox_latency_ms,
        gateway_url=gateway_url, carrier_url=carrier_url,
        webhook_secret=webhook_secret.encode(), orders=orders,
        sqlite_synchronous=sqlite_synchronous, sqlite_writer=sqlite_writer,
        upi_poll_interval_s=upi_poll_s, orders_first=orders_first, saga_min_rate=saga_min_rate,
        saga_max_wait_s=saga_max_wait_s, max_streams_per_token=max_streams_per_token,
        watch_buffer_events=watch_buffer_events, watch_replay_page=watch_replay_page,
        watch_replay_rate=watch_replay_rate,
        rate_limit=rate_limit if rate_limit and rate_limit[0] > 0 else None,
        fulfillment=FulfillmentSettings(tracking_poll_s=tracking_poll_s,
                                        settlement_interval_s=settlement_interval_s,
                                        cod_remit_days=cod_remit_days, local_tz=local_tz,
                                        pick_task_timeout_s=pick_task_timeout_s,
                                        weight_tolerance_pct=weight_tolerance_pct),
        webhook_limits=HttpLimits(request_timeout_s=webhook_timeout_s,
                                  max_connections=webhook_max_connections),
        tls=tls,
        db=DbOptions(pool_size=db_pool_size, statement_timeout_s=db_statement_timeout_s,
                     idle_in_transaction_timeout_s=db_idle_in_transaction_timeout_s,
                     prepare_threshold=5 if db_prepared_statements else None),
        metrics_listen=metrics_listen,
        notify=notify,
        webhook_signing_key=signing_key, webhook_retry_schedule=retry_schedule,
        webhooks_allow_private=webhooks_allow_private,
        outbox_interval_s=outbox_interval_s,
        nats_url=_nats_url(nats_url),
    )
    _run_loop(_serve(settings))


def _nats_url(url: str | None) -> str | None:
    """--nats-url checked (its value is not echoed: it may carry a password or token)."""
    from urllib.parse import urlsplit

    if not url:
        return None
    for one in url.split(","):
        try:
            parts = urlsplit(one.strip())
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in ("nats", "tls", "ws", "wss") or not parts.hostname or not port_ok:
            raise click.BadParameter("expected nats://HOST:PORT (several: comma-separated; "
                                     "tls:// for TLS)", param_hint="--nats-url")
    return url


def _serve_webhook_secret(secret: str, secret_file: str | None, sandbox: bool) -> str:
    """The secret webhooks are signed with, from --webhook-secret or --webhook-secret-file."""
    from server.secrets_cli import read_secret_file

    if secret and secret_file:
        raise click.UsageError("pass --webhook-secret or --webhook-secret-file, not both")
    if secret_file:
        try:
            return read_secret_file(secret_file)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--webhook-secret-file") from None
    if not secret and not sandbox:
        logging.getLogger("tote").warning(
            "no webhook secret (TOTE_WEBHOOK_SECRET or --webhook-secret-file): every webhook "
            "of the gateway and carrier will be refused, and tote learns of UPI approvals and "
            "tracking only by polling; `tote sandbox` prints the secret it signs with")
    return secret


def _webhook_signing_key(key_file: str | None) -> bytes | None:
    """Storefront webhooks' signing key: --webhook-signing-key-file, else the environment's
    TOTE_WEBHOOK_SIGNING_KEY (never a flag's value: it would show in ps); None: off."""
    from server.secrets_cli import read_secret_file

    key = os.environ.get("TOTE_WEBHOOK_SIGNING_KEY", "").strip()
    if key_file:
        try:
            key = read_secret_file(key_file)
        except ValueError as exc:
            raise click.BadParameter(str(exc).replace("webhook secret", "signing key"),
                                     param_hint="--webhook-signing-key-file") from None
    if not key:
        return None
    if len(key) < 32:
        raise click.BadParameter(
            f"the webhook signing key has {len(key)} characters; it needs at least 32 (e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`)",
            param_hint="--webhook-signing-key-file / TOTE_WEBHOOK_SIGNING_KEY")
    return key.encode()


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """tote serve's event loop: uvloop (libuv) where installed, else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve(settings: Settings) -> None:
    from server.app import start

    running = await start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parts = [f"gRPC on {running.grpc_address}", f"webhooks on {running.webhooks.url}"]
    if running.sandbox is not None:
        parts.append(f"sandbox on {running.sandbox.url}")
    if running.metrics_url is not None:
        # A line of its own, before the ready line, so that the ready line keeps its form.
        print(f"tote metrics on {running.metrics_url}", flush=True)
    print(f"tote serving: {', '.join(parts)} (database {running.db.url})", flush=True)
    await stop.wait()
    print("tote: stopping — draining in-flight calls", flush=True)
    await running.stop()
    print("tote: stopped", flush=True)


@cli.command()
@click.option("--listen", default="127.0.0.1:8090", show_default=True, envvar="TOTE_SANDBOX_LISTEN")
@click.option("--notify-url", envvar="TOTE_NOTIFY_URL",
              help="tote's webhook endpoint, e.g. http://127.0.0.1:8081/webhooks/gateway")
@click.option("--webhook-secret", envvar="TOTE_WEBHOOK_SECRET", default="",
              help="HMAC secret shared with tote serve (default: generated and printed)")
@click.option("--webhook-secret-file", envvar="TOTE_WEBHOOK_SECRET_FILE",
              type=click.Path(dir_okay=False),
              help="read the secret from this file; a missing file gets a new secret (mode 600)")
@click.option("--latency-ms", default=0, type=click.IntRange(0, 60_000))
def sandbox(listen, notify_url, webhook_secret, webhook_secret_file, latency_ms):
    """Run the sandbox payment gateway and carrier alone."""
    from sandbox.app import run_sandbox_forever
    from server.secrets_cli import generate_secret, secret_file_for_sandbox

    setup_logging("WARNING")
    host, port = split_hostport(listen)
    if webhook_secret and webhook_secret_file:
        raise click.UsageError("pass --webhook-secret or --webhook-secret-file, not both")
    if webhook_secret_file:
        try:
            webhook_secret, how = secret_file_for_sandbox(webhook_secret_file)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        note = (f"webhook secret {how} {webhook_secret_file}; start tote serve with "
                f"--webhook-secret-file {webhook_secret_file}")
    elif webhook_secret:
        note = "webhook secret: the one given (TOTE_WEBHOOK_SECRET / --webhook-secret)"
    else:
        # A sandbox secret for local testing: printed so that tote serve can be given it.
        webhook_secret = generate_secret()
        note = (f"webhook secret (generated for this run; give it to tote serve as "
                f"TOTE_WEBHOOK_SECRET): {webhook_secret}")
    try:
        asyncio.run(run_sandbox_forever(host, port, notify_url, webhook_secret.encode(),
                                        latency_ms, notes=(note,)))
    except KeyboardInterrupt:
        pass


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--db", "db_url", envvar="TOTE_DB", help=DB_HELP)
@click.option("--revision", default="head", show_default=True)
def db_upgrade(db_url, revision):
    """Migrate the database to the newest schema."""
    from core.persistence import migrate
    from core.persistence.db import normalize_url

    migrate.upgrade(db_url, revision)
    click.echo(f"database {normalize_url(db_url)} is at {revision}")


@db.command("downgrade")
@click.option("--db", "db_url", envvar="TOTE_DB", help=DB_HELP)
@click.option("--revision", required=True, help="target revision ('base' drops everything)")
def db_downgrade(db_url, revision):
    """Migrate the database down to an older schema."""
    from core.persistence import migrate

    migrate.downgrade(db_url, revision)
    click.echo(f"database is at {revision}")


def main() -> None:
    cli()


def _register_label_commands() -> None:
    from server.label_cli import label

    cli.add_command(label)


_register_label_commands()


def _register_check_command() -> None:
    from server.check_cli import check

    cli.add_command(check)


_register_check_command()


cli.add_command(token)


def _register_card_token_command() -> None:
    from server.card_cli import card_token

    cli.add_command(card_token)


_register_card_token_command()


def _register_tool_commands() -> None:
    from server.tools_cli import console, demo, packer, picker

    for command in (picker, packer, console, demo):
        cli.add_command(command)


_register_tool_commands()
