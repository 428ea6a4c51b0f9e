"""The sandbox's ids (card tokens, authorization and capture ids, event ids) never read as card
numbers: tote refuses any text that does, so a token that happened to would fail an order."""

from __future__ import annotations

from core.domain.cards import contains_card_number
from sandbox import wire

# Drawn by secrets.token_hex(10) in a run of this test's first version: a 16-digit run after
# "c" that passes Luhn, refused by tote as payment.card.token.
CARD_LIKE = "3d4c4872232401909052"


def test_an_id_that_reads_as_a_card_number_is_drawn_again(monkeypatch):
    assert contains_card_number(f"tok_{CARD_LIKE}")
    draws = iter([CARD_LIKE, "0f1e2d3c4b5a69788796"])
    monkeypatch.setattr(wire.secrets, "token_hex", lambda n: next(draws))
    assert wire.new_id("tok") == "tok_0f1e2d3c4b5a69788796"


def test_ids_keep_their_shape():
    token = wire.new_id("tok")
    assert token.startswith("tok_") and len(token) == 24
    assert not contains_card_number(token)
