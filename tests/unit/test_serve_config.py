"""`tote serve` configuration: every row of README's Configuration table reaches the server.

Each flag, and instead its TOTE_* variable, is given to the real `serve` command (click's
CliRunner); the Settings it hands to the composition root (`_serve`) are read there, where the
server would start. The flag wins over the variable. README's table, the command's options and
this test's table must name the same flags and variables.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import server.cli as cli_module
from core.domain.shipping import RateTable
from server.cli import cli, serve
from server.settings import Settings, TlsFiles

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_rows() -> dict[str, str]:
    """README's Configuration table: flag → variable."""
    text = README.read_text()
    table = text[text.index("### Configuration"):]
    table = table[:table.index("\n\n", table.index("| --- |"))]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        flags = re.findall(r"`(--[a-z-]+)`", cells[0])
        env = re.findall(r"`(TOTE_[A-Z_]+)`", cells[1]) if len(cells) > 1 else []
        if flags and env:
            rows[flags[0]] = env[0]
    return rows


# What each setting is seen as: (the flag's arguments, the value the server then has;
# the variable's value, what the server then has; a variable value the flag must beat —
# all three differ from the default, or the flag's differs from the beaten one).
Row = tuple[list[str], Any, str, Any, str, Callable[[Settings], Any]]
MIN = 60  # (seconds)
ROWS: dict[str, Row] = {
    "--db": (["--db", "flag.db"], "flag.db", "env.db", "env.db", "other.db",
             lambda s: s.db_url),
    "--listen": (["--listen", "127.0.0.1:1111"], "127.0.0.1:1111", "127.0.0.1:2222",
                 "127.0.0.1:2222", "127.0.0.1:3333", lambda s: s.listen),
    "--webhook-listen": (["--webhook-listen", "0.0.0.0:1112"], "0.0.0.0:1112", "[::1]:2223",
                         "[::1]:2223", "127.0.0.1:3334", lambda s: s.webhook_listen),
    "--sandbox": (["--sandbox"], True, "1", True, "0", lambda s: s.sandbox),
    "--sandbox-listen": (["--sandbox-listen", "127.0.0.1:1113"], "127.0.0.1:1113",
                         "127.0.0.1:2224", "127.0.0.1:2224", "127.0.0.1:3335",
                         lambda s: s.sandbox_listen),
    "--sandbox-latency-ms": (["--sandbox-latency-ms", "25"], 25, "35", 35, "45",
                             lambda s: s.sandbox_latency_ms),
    "--gateway-url": (["--gateway-url", "http://gw.flag:1"], "http://gw.flag:1",
                      "http://gw.env:2", "http://gw.env:2", "http://gw.other:3",
                      lambda s: s.gateway_url),
    "--carrier-url": (["--carrier-url", "http://cr.flag:1"], "http://cr.flag:1",
                      "http://cr.env:2", "http://cr.env:2", "http://cr.other:3",
                      lambda s: s.carrier_url),
    "--webhook-secret": (["--webhook-secret", "flag-secret"], b"flag-secret", "env-secret",
                         b"env-secret", "other-secret", lambda s: s.webhook_secret),
    "--cod-limit-minor": (["--cod-limit-minor", "1111"], 1111, "2222", 2222, "3333",
                          lambda s: s.orders.cod_limit_minor),
    "--upi-expiry-s": (["--upi-expiry-s", "61"], timedelta(seconds=61), "62",
                       timedelta(seconds=62), "63", lambda s: s.orders.upi_expiry),
    "--upi-payee-vpa": (["--upi-payee-vpa", "flag@bank"], "flag@bank", "env@bank",
                        "env@bank", "other@bank", lambda s: s.orders.upi_payee_vpa),
    "--upi-poll-s": (["--upi-poll-s", "1.5"], 1.5, "2.5", 2.5, "3.5",
                     lambda s: s.upi_poll_interval_s),
    "--shipping-rates": (["--shipping-rates", "100:1000,+50:200"],
                         RateTable.parse("100:1000,+50:200"), "200:2000,+10:5",
                         RateTable.parse("200:2000,+10:5"), "300:3000,+1:1",
                         lambda s: s.orders.rate_table),
    "--saga-lease-s": (["--saga-lease-s", "11"], timedelta(seconds=11), "12",
                       timedelta(seconds=12), "13", lambda s: s.orders.saga_lease),
    "--promise-days": (["--promise-days", "5"], 5, "6", 6, "7",
                       lambda s: s.orders.promise_days),
    "--local-tz": (["--local-tz", "Europe/Berlin"], "Europe/Berlin", "America/New_York",
                   "America/New_York", "Asia/Tokyo", lambda s: s.fulfillment.local_tz),
    "--pick-task-timeout-s": (["--pick-task-timeout-s", "5"], 5.0, "6", 6.0, "7",
                              lambda s: s.fulfillment.pick_task_timeout_s),
    "--weight-tolerance-pct": (["--weight-tolerance-pct", "11"], 11, "12", 12, "13",
                               lambda s: s.fulfillment.weight_tolerance_pct),
    "--tracking-poll-s": (["--tracking-poll-s", "1.5"], 1.5, "2.5", 2.5, "3.5",
                          lambda s: s.fulfillment.tracking_poll_s),
    "--settlement-interval-s": (["--settlement-interval-s", "1.5"], 1.5, "2.5", 2.5, "3.5",
                                lambda s: s.fulfillment.settlement_interval_s),
    "--cod-remit-days": (["--cod-remit-days", "2"], 2, "3", 3, "4",
                         lambda s: s.fulfillment.cod_remit_days),
    # Two choices, FULL the default: the flag's NORMAL must beat a FULL variable.
    "--sqlite-synchronous": (["--sqlite-synchronous", "NORMAL"], "NORMAL", "NORMAL", "NORMAL",
                             "FULL", lambda s: s.sqlite_synchronous.upper()),
    "--sqlite-writer": (["--sqlite-writer", "thread"], "thread", "thread", "thread", "process",
                        lambda s: s.sqlite_writer),
    "--orders-first": (["--no-orders-first"], False, "false", False, "true",
                       lambda s: s.orders_first),
    "--saga-min-rate": (["--saga-min-rate", "1.5"], 1.5, "2.5", 2.5, "3.5",
                        lambda s: s.saga_min_rate),
    "--saga-max-wait-s": (["--saga-max-wait-s", "1.5"], 1.5, "2.5", 2.5, "3.5",
                          lambda s: s.saga_max_wait_s),
    "--rate-limit": (["--rate-limit", "20:40"], (20.0, 40), "5", (5.0, 5), "off",
                     lambda s: s.rate_limit),
    "--webhook-timeout-s": (["--webhook-timeout-s", "1.5"], 1.5, "2.5", 2.5, "3.5",
                            lambda s: s.webhook_limits.request_timeout_s),
    "--webhook-max-connections": (["--webhook-max-connections", "11"], 11, "12", 12, "13",
                                  lambda s: s.webhook_limits.max_connections),
    "--max-streams-per-token": (["--max-streams-per-token", "5"], 5, "6", 6, "7",
                                lambda s: s.max_streams_per_token),
    "--watch-buffer-events": (["--watch-buffer-events", "50"], 50, "60", 60, "70",
                              lambda s: s.watch_buffer_events),
    "--watch-replay-page": (["--watch-replay-page", "5"], 5, "6", 6, "7",
                            lambda s: s.watch_replay_page),
    "--watch-replay-rate": (["--watch-replay-rate", "50"], 50.0, "60", 60.0, "70",
                            lambda s: s.watch_replay_rate),
    "--db-pool-size": (["--db-pool-size", "3"], 3, "4", 4, "5", lambda s: s.db.pool_size),
    "--db-statement-timeout-s": (["--db-statement-timeout-s", "1.5"], 1.5, "2.5", 2.5, "3.5",
                                 lambda s: s.db.statement_timeout_s),
    "--db-idle-in-transaction-timeout-s": (
        ["--db-idle-in-transaction-timeout-s", "1.5"], 1.5, "2.5", 2.5, "3.5",
        lambda s: s.db.idle_in_transaction_timeout_s),
    "--db-prepared-statements": (["--no-db-prepared-statements"], None, "false", None, "true",
                                 lambda s: s.db.prepare_threshold),
    "--metrics-listen": (["--metrics-listen", "127.0.0.1:9101"], "127.0.0.1:9101",
                         "127.0.0.1:9102", "127.0.0.1:9102", "127.0.0.1:9103",
                         lambda s: s.metrics_listen),
    "--smtp-url": (["--smtp-url", "smtp://flag:25"], "smtp://flag:25", "smtps://env:465",
                   "smtps://env:465", "smtp://other:2525", lambda s: s.notify.smtp_url),
    "--mail-from": (["--mail-from", "a@flag.in"], "a@flag.in", "b@env.in", "b@env.in",
                    "c@other.in", lambda s: s.notify.mail_from),
    "--sms-url": (["--sms-url", "http://sms.flag:1"], "http://sms.flag:1", "http://sms.env:2",
                  "http://sms.env:2", "http://sms.other:3", lambda s: s.notify.sms_url),
    "--tracking-link": (["--tracking-link", "https://f/{tracking_number}"],
                        "https://f/{tracking_number}", "https://e/{carrier}",
                        "https://e/{carrier}", "https://o/", lambda s: s.notify.tracking_link),
    "--notify-retry-schedule": (["--notify-retry-schedule", "1s,2m"], (1.0, 120.0), "3s",
                                (3.0,), "1h", lambda s: s.notify.retry_schedule),
    "--notify-interval-s": (["--notify-interval-s", "0.5"], 0.5, "1.5", 1.5, "2.5",
                            lambda s: s.notify.interval_s),
    "--webhook-retry-schedule": (["--webhook-retry-schedule", "1s,2m"], (1.0, 120.0), "3h",
                                 (10800.0,), "4d", lambda s: s.webhook_retry_schedule),
    "--webhooks-allow-private": (["--webhooks-allow-private"], True, "true", True, "false",
                                 lambda s: s.webhooks_allow_private),
    "--outbox-interval-s": (["--outbox-interval-s", "0.5"], 0.5, "0.25", 0.25, "2",
                            lambda s: s.outbox_interval_s),
    "--nats-url": (["--nats-url", "nats://flag:4222"], "nats://flag:4222",
                   "nats://u:p@env:4222", "nats://u:p@env:4222", "nats://other:4222",
                   lambda s: s.nats_url),
}
# TLS files come in pairs (a certificate and its key): tested as sets below, not one by one.
TLS_FLAGS = ("--tls-cert", "--tls-key", "--tls-client-ca")
def _serve_options() -> dict[str, str | None]:
    """The serve command's options: longest flag → its variable."""
    return {max(p.opts, key=len): p.envvar for p in serve.params  # type: ignore[misc]
            if isinstance(p, click.Option) and p.name != "help"}


if "--webhook-secret-file" in _serve_options():
    # The secret read from a file: three files with three secrets (removed at exit).
    _SECRETS = Path(tempfile.mkdtemp(prefix="tote-serve-config-"))
    atexit.register(shutil.rmtree, _SECRETS, True)
    for _name in ("flag", "env", "other"):
        (_SECRETS / _name).write_text(f"{_name}-file-secret\n")
    ROWS["--webhook-secret-file"] = (
        ["--webhook-secret-file", str(_SECRETS / "flag")], b"flag-file-secret",
        str(_SECRETS / "env"), b"env-file-secret", str(_SECRETS / "other"),
        lambda s: s.webhook_secret)
if "--smtp-password-file" in _serve_options():
    ROWS["--smtp-password-file"] = (
        ["--smtp-password-file", str(_SECRETS / "flag")], "flag-file-secret",
        str(_SECRETS / "env"), "env-file-secret", str(_SECRETS / "other"),
        lambda s: s.notify.smtp_password)
    for _name in ("flag", "env", "other"):
        (_SECRETS / f"templates-{_name}").mkdir()
    ROWS["--templates"] = (
        ["--templates", str(_SECRETS / "templates-flag")], str(_SECRETS / "templates-flag"),
        str(_SECRETS / "templates-env"), str(_SECRETS / "templates-env"),
        str(_SECRETS / "templates-other"), lambda s: s.notify.templates_dir)

if "--webhook-signing-key-file" in _serve_options():
    # Storefront webhooks' signing key, from a file (at least 32 characters).
    for _name in ("flag", "env", "other"):
        (_SECRETS / f"key-{_name}").write_text(f"{_name}-signing-key-{'k' * 32}\n")
    ROWS["--webhook-signing-key-file"] = (
        ["--webhook-signing-key-file", str(_SECRETS / "key-flag")],
        f"flag-signing-key-{'k' * 32}".encode(), str(_SECRETS / "key-env"),
        f"env-signing-key-{'k' * 32}".encode(), str(_SECRETS / "key-other"),
        lambda s: s.webhook_signing_key)

# Not a Setting: the log level goes to logging's setup, observed there.
LOG_LEVEL = (["--log-level", "DEBUG"], "DEBUG", "WARNING", "WARNING", "ERROR")


@pytest.fixture
def started(monkeypatch) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """What `tote serve` hands to its composition root (the server is not started)."""
    seen: dict[str, Any] = {}

    async def composition_root(settings: Settings) -> None:
        seen["settings"] = settings

    def run_loop(main) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(StopIteration):
            main.send(None)  # runs composition_root to its end: the settings are seen

    def setup_logging(level: str) -> None:
        seen["log_level"] = level

    monkeypatch.setattr(cli_module, "_serve", composition_root)
    monkeypatch.setattr(cli_module, "_run_loop", run_loop)
    monkeypatch.setattr(cli_module, "setup_logging", setup_logging)
    yield seen


def run_serve(argv: list[str], env: dict[str, str]) -> click.testing.Result:
    # Every TOTE_* variable of the caller's environment is cleared: only `env` counts.
    clean = {var: None for var in readme_rows().values()}
    result = CliRunner().invoke(cli, ["serve", *argv], env={**clean, **env},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_readme_the_command_and_this_test_name_the_same_flags_and_variables():
    options = _serve_options()
    assert readme_rows() == options
    assert set(ROWS) | {"--log-level", *TLS_FLAGS} == set(options)


@pytest.mark.parametrize("flag", ROWS)
def test_the_flag_reaches_the_server(started, flag):
    argv, expected, *_, seen_as = ROWS[flag]
    run_serve(argv, {})
    assert seen_as(started["settings"]) == expected


@pytest.mark.parametrize("flag", ROWS)
def test_the_variable_reaches_the_server(started, flag):
    _, _, value, expected, _, seen_as = ROWS[flag]
    run_serve([], {readme_rows()[flag]: value})
    assert seen_as(started["settings"]) == expected


@pytest.mark.parametrize("flag", ROWS)
def test_the_flag_wins_over_the_variable(started, flag):
    argv, expected, _, _, beaten, seen_as = ROWS[flag]
    run_serve(argv, {readme_rows()[flag]: beaten})
    assert seen_as(started["settings"]) == expected


def test_with_neither_the_server_has_each_default(started):
    run_serve([], {})
    defaults = Settings()
    for flag, (*_, seen_as) in ROWS.items():
        if flag in ("--sandbox-listen", "--db"):
            continue
        assert seen_as(started["settings"]) == seen_as(defaults), flag
    assert started["settings"].db_url is None  # ./tote.db, resolved by the database layer
    assert started["log_level"] == "INFO"


def test_the_log_level_flag_and_variable_reach_logging(started):
    argv, flag_value, env_value, _, beaten = LOG_LEVEL
    run_serve(argv, {})
    assert started["log_level"] == flag_value
    run_serve([], {"TOTE_LOG_LEVEL": env_value})
    assert started["log_level"] == env_value
    run_serve(argv, {"TOTE_LOG_LEVEL": beaten})
    assert started["log_level"] == flag_value


@pytest.mark.parametrize("argv, env, named", [
    (["--listen", "nowhere"], {}, "nowhere"),
    ([], {"TOTE_LISTEN": "nowhere"}, "nowhere"),
    ([], {"TOTE_LOCAL_TZ": "Mars/Olympus"}, "Mars/Olympus"),
    ([], {"TOTE_COD_LIMIT_MINOR": "-1"}, "--cod-limit-minor"),
    ([], {"TOTE_SHIPPING_RATES": "cheap"}, "cheap"),
    ([], {"TOTE_SQLITE_WRITER": "fork"}, "fork"),
    ([], {"TOTE_LOG_LEVEL": "chatty"}, "chatty"),
    # (A port past 65535 would be taken modulo 65536 by the socket layer, quietly.)
    (["--webhook-listen", "127.0.0.1:99999"], {},
     "--webhook-listen: '127.0.0.1:99999': a port is 0 to 65535"),
    ([], {"TOTE_METRICS_LISTEN": "127.0.0.1:70000"}, "a port is 0 to 65535"),
    ([], {"TOTE_NATS_URL": "http://broker:4222"}, "--nats-url"),
])
def test_a_bad_value_stops_serve_before_it_starts_naming_it(started, argv, env, named):
    clean = {var: None for var in readme_rows().values()}
    result = CliRunner().invoke(cli, ["serve", *argv], env={**clean, **env})
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "settings" not in started


@pytest.fixture(scope="module")
def two_pkis(tmp_path_factory) -> tuple[dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    from tests.tls_pki import make_pki

    return (make_pki(tmp_path_factory.mktemp("pki-a")), make_pki(tmp_path_factory.mktemp("pki-b")))


def test_the_tls_flags_and_variables_reach_the_server_and_the_flags_win(started, two_pkis):
    a, b = two_pkis
    argv = ["--tls-cert", a["cert"], "--tls-key", a["key"], "--tls-client-ca", a["ca"]]
    env = {"TOTE_TLS_CERT": b["cert"], "TOTE_TLS_KEY": b["key"], "TOTE_TLS_CLIENT_CA": b["ca"]}
    run_serve(argv, {})
    assert started["settings"].tls == TlsFiles(a["cert"], a["key"], a["ca"])
    run_serve([], env)
    assert started["settings"].tls == TlsFiles(b["cert"], b["key"], b["ca"])
    run_serve(argv, env)
    assert started["settings"].tls == TlsFiles(a["cert"], a["key"], a["ca"])
    run_serve([], {})
    assert started["settings"].tls is None  # plaintext by default


def test_a_tls_key_that_is_not_the_certificates_stops_serve_with_exit_1(started, two_pkis):
    a, b = two_pkis
    clean = {var: None for var in readme_rows().values()}
    result = CliRunner().invoke(cli, ["serve", "--tls-cert", a["cert"], "--tls-key", b["key"]],
                                env=clean)
    assert result.exit_code == 1, result.output
    assert a["cert"] in result.output and "settings" not in started
