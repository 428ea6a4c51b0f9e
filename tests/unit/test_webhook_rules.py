"""Storefront webhooks' rules without I/O: the retry schedule, the signature, the addresses
refused, the flags' errors."""

from __future__ import annotations

import ipaddress

import pytest
from click.testing import CliRunner
from standardwebhooks import Webhook, WebhookVerificationError

from core.domain.webhooks import DEFAULT_RETRY_SCHEDULE, parse_retry_schedule
from server.cli import cli
from server.hook_http import RefusedUrl, _address_refused, split
from server.storefront_hooks import endpoint_secret, shown_secret, signed_headers


def test_the_default_schedule_retries_for_more_than_a_day():
    delays = parse_retry_schedule(DEFAULT_RETRY_SCHEDULE)
    assert delays == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert sum(delays) > 86400


@pytest.mark.parametrize("text", ["", "5s,,5m", "5", "5x", "-1s", "0s", "8d", "5s;5m",
                                  ",".join(["1s"] * 21)])
def test_a_bad_schedule_is_refused_saying_why(text):
    with pytest.raises(ValueError) as bad:
        parse_retry_schedule(text)
    assert "retry schedule" in str(bad.value)


def test_small_delays_for_tests_parse():
    assert parse_retry_schedule("100ms, 0.2s") == (0.1, 0.2)


def test_the_signature_verifies_with_the_reference_implementation():
    secret = endpoint_secret(b"k" * 32, "we_01")
    assert secret != endpoint_secret(b"k" * 32, "we_02")  # one secret per endpoint
    body = b'{"type":"Order_Created"}'
    import time

    headers = signed_headers(secret, "42", int(time.time()), body)
    assert Webhook(shown_secret(secret)).verify(body, headers) == {"type": "Order_Created"}
    with pytest.raises(WebhookVerificationError):
        Webhook(shown_secret(secret)).verify(body + b" ", headers)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1",
                                     "169.254.169.254", "0.0.0.0", "224.0.0.1", "::1",
                                     "fe80::1", "fc00::1", "::ffff:10.0.0.1", "100.64.0.1",
                                     "240.0.0.1"])
def test_addresses_that_are_not_public_are_refused(address):
    assert _address_refused(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address):
    assert _address_refused(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", ["https://shop.example/hooks#x", "gopher://x/", "http:///x",
                                 "http://u@shop.example/", "http://shop.example:99999/"])
def test_urls_of_the_wrong_form_are_refused(url):
    with pytest.raises(RefusedUrl):
        split(url)


def test_serve_refuses_a_bad_retry_schedule_and_a_short_signing_key(tmp_path):
    bad = CliRunner().invoke(cli, ["serve", "--webhook-retry-schedule", "5s,soon"])
    assert bad.exit_code == 2 and "'soon' in the retry schedule" in bad.output
    key = tmp_path / "key"
    key.write_text("short\n")
    short = CliRunner().invoke(cli, ["serve", "--webhook-signing-key-file", str(key)])
    assert short.exit_code == 2 and "at least 32" in short.output
