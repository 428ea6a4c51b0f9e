"""`tote card-token`: a test card tokenized at a real sandbox without curl, and the token it
prints pays for a real order (or is declined, for the declining card)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests import live_server
from tests.harness import ROOT, card, free_port, unique
from tote.v1 import common_pb2 as pb

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


db_url = live_server.db_url  # SQLite only: tokenizing a card does not touch tote's database


def card_token(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOTE_")}
    return subprocess.run([sys.executable, "-m", "server", "card-token", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**base, **(env or {})})


def place_with(admin, shop, token: str) -> pb.Order:  # type: ignore[no-untyped-def]
    sku = unique("MUG")
    admin.product(sku, price_minor=49_900)
    admin.receive("FC-BLR", sku, 5)
    placed = shop.place([(sku, 1)], card(token))
    return shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})


def test_the_default_card_token_is_printed_alone_and_pays_for_an_order(tote, admin, shop):
    out = card_token("--gateway-url", tote.sandbox_url)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tok_")
    order = place_with(admin, shop, lines[0])
    assert order.status == PROCESSING, order.cancel_reason
    assert order.payment.state == "authorized"


def test_the_declining_test_card_from_tote_gateway_url_is_declined(tote, admin, shop):
    out = card_token("--card", "decline", env={"TOTE_GATEWAY_URL": tote.sandbox_url})
    assert out.returncode == 0, out.stderr
    order = place_with(admin, shop, out.stdout.strip())
    assert order.status == CANCELLED and "declin" in order.cancel_reason.lower()


def test_a_card_the_gateway_refuses_says_why_and_prints_no_token(tote):
    out = card_token("--gateway-url", tote.sandbox_url, "--number", "4242424242424241")
    assert (out.returncode, out.stdout) == (1, "")
    assert "refused the card (HTTP 400): the card number is not valid" in out.stderr
    out = card_token("--gateway-url", tote.sandbox_url, "--exp-year", "2001")
    assert out.returncode == 1 and "expired" in out.stderr
    out = card_token("--gateway-url", tote.sandbox_url, "--card", "decline",
                     "--number", "4000000000000002")
    assert out.returncode == 2 and "--card or --number, not both" in out.stderr


def test_no_gateway_there_says_what_to_start():
    out = card_token("--gateway-url", f"http://127.0.0.1:{free_port()}")
    assert (out.returncode, out.stdout) == (1, "")
    assert "cannot reach the gateway" in out.stderr and "tote sandbox" in out.stderr
    assert "Traceback" not in out.stderr
