"""Card tokenization and the test cards' behaviour. The only place a card number is handled."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .wire import SandboxError, error_response, json_response, new_id, read_json, require_int

APPROVE = "approve"
DECLINE = "decline"
FAIL_FIRST_ATTEMPT = "fail_first_attempt"

# The published test cards; any other Luhn-valid number approves.
TEST_CARDS = {
    "4242424242424242": APPROVE,
    "4000000000000002": DECLINE,
    "4000000000000119": FAIL_FIRST_ATTEMPT,
}


@dataclass(frozen=True)
class Card:
    """What the vault keeps for a token: never the number, only what the sandbox acts on."""

    token: str
    last4: str
    brand: str
    exp_month: int
    exp_year: int
    behaviour: str


def luhn_valid(number: str) -> bool:
    """True when number is all digits and passes the Luhn check."""
    if not number.isascii() or not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch)
        if i % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    """The card network, from the number's prefix."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number.startswith(("60", "65", "81", "82", "508")):
        return "rupay"
    return "unknown"


class CardVault:
    """Tokens issued by the sandbox and what each test card does at authorization."""

    def __init__(self) -> None:
        self._cards: dict[str, Card] = {}
        # Idempotency keys of authorizations of FAIL_FIRST_ATTEMPT cards that already got their 500.
        self._failed_once: set[str] = set()

    def tokenize(self, body: dict[str, Any], now: float) -> Card:
        """Validate a card and issue a token for it; 400 with the reason when it is not valid."""
        number = body.get("number")
        if not isinstance(number, str):
            raise SandboxError(400, "invalid_number", "'number' must be a string of digits")
        number = number.replace(" ", "").replace("-", "")
        if not 12 <= len(number) <= 19 or not luhn_valid(number):
            raise SandboxError(400, "invalid_number", "the card number is not valid")
        exp_month = require_int(body, "exp_month", minimum=1)
        exp_year = require_int(body, "exp_year", minimum=2000)
        if exp_month > 12:
            raise SandboxError(400, "invalid_expiry", "'exp_month' must be 1-12")
        today = time.gmtime(now)
        if (exp_year, exp_month) < (today.tm_year, today.tm_mon):
            raise SandboxError(400, "expired_card", "the card has expired")
        cvc = body.get("cvc")
        if not isinstance(cvc, str) or not cvc.isdigit() or len(cvc) not in (3, 4):
            raise SandboxError(400, "invalid_cvc", "'cvc' must be 3 or 4 digits")
        card = Card(
            token=new_id("tok"),
            last4=number[-4:],
            brand=card_brand(number),
            exp_month=exp_month,
            exp_year=exp_year,
            behaviour=TEST_CARDS.get(number, APPROVE),
        )
        self._cards[card.token] = card
        return card

    def card(self, token: str) -> Card:
        """The card behind a token; 400 for a token the sandbox never issued."""
        card = self._cards.get(token)
        if card is None:
            raise SandboxError(400, "invalid_token", "unknown card token")
        return card

    def fails_this_attempt(self, card: Card, idempotency_key: str | None) -> bool:
        """True for the first attempt of each authorization of a fail-first-attempt card."""
        if card.behaviour != FAIL_FIRST_ATTEMPT:
            return False
        attempt = idempotency_key or ""
        if attempt in self._failed_once:
            return False
        self._failed_once.add(attempt)
        return True


async def create_token(request: Request) -> Response:
    """POST /v1/tokens — the storefront tokenizes a card; tote only ever sees the token."""
    state = request.app.state.sandbox
    try:
        card = state.cards.tokenize(await read_json(request), state.clock())
    except SandboxError as error:
        return error_response(error)
    return json_response(
        200,
        {
            "token": card.token,
            "last4": card.last4,
            "brand": card.brand,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        },
    )
