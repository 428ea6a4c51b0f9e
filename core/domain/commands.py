"""Commands the order service accepts, with their validation (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.domain.cards import contains_card_number
from core.domain.contact import CustomerContact, validate_contact
from core.domain.errors import InvalidArgument
from core.domain.money import check_currency
from core.domain.order import PaymentMethod

R = TypeVar("R", covariant=True)


class Command(Generic[R]):
    """A change asked of the database, named for its use case; `R` is what its handler answers.

    Each command is a frozen dataclass of plain values. core/service/bus.py holds the one
    handler of each; `DbExecutor.execute(command)` (server/dbexec.py) runs it in a write
    transaction. How a command reaches the writer (a thread, or a process of its own) is the
    executor's business: nothing else pickles, sends or unpacks it.
    """

    __slots__ = ()


MAX_LINES = 100
MAX_QUANTITY = 10_000
MAX_KEY = 128
MAX_TEXT = 256
MAX_TOKEN = 256


@dataclass(frozen=True, slots=True)
class Address:
    name: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""
    latitude: float = 0.0
    longitude: float = 0.0


@dataclass(frozen=True, slots=True)
class LineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    method: PaymentMethod
    card_token: str = ""
    upi_vpa: str = ""


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """A storefront's order. Prices are never taken from the client: the catalog prices it."""

    storefront: str
    idempotency_key: str
    customer_id: str
    lines: tuple[LineRequest, ...]
    ship_to: Address
    payment: PaymentRequest
    currency: str
    extra: dict[str, str] = field(default_factory=dict)
    # Where the customer is told about the order; None: nowhere (no messages).
    contact: CustomerContact | None = None

    def request_hash(self) -> str:
        """A digest of what the client asked for, to tell a retry from a different request."""
        a = self.ship_to
        body = {
            "customer_id": self.customer_id,
            "lines": [(line.sku, line.quantity) for line in self.lines],
            # asdict(a) spelled out (it deep-copies): the digest of stored orders must not move
            "ship_to": {"name": a.name, "line1": a.line1, "line2": a.line2, "city": a.city,
                        "region": a.region, "postal_code": a.postal_code,
                        "country": a.country, "phone": a.phone, "latitude": a.latitude,
                        "longitude": a.longitude},
            "payment": [str(self.payment.method), self.payment.card_token, self.payment.upi_vpa],
            "currency": self.currency,
        }
        c = self.contact
        if c is not None and (c.email or c.phone or c.locale):
            # Only when given: the digest of orders placed without a contact must not move.
            body["contact"] = [c.email, c.phone, c.locale]
        raw = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()


def _text(value: str, field_name: str, *, required: bool = False, limit: int = MAX_TEXT) -> None:
    if required and not value.strip():
        raise InvalidArgument(f"{field_name} is required", field=field_name)
    if len(value) > limit:
        raise InvalidArgument(
            f"{field_name} is {len(value)} characters long; at most {limit} are accepted",
            field=field_name,
        )


_ADDRESS_TEXT = ("name", "line1", "line2", "city", "region", "postal_code")


def validate_place_order(cmd: PlaceOrder) -> None:
    """Raise InvalidArgument naming the first field that is wrong."""
    _text(cmd.idempotency_key, "idempotency_key", required=True, limit=MAX_KEY)
    _text(cmd.customer_id, "customer_id", required=True)
    _validate_order(cmd)


def validate_quote_order(cmd: PlaceOrder) -> None:
    """PlaceOrder's validation for a quote: no idempotency key, the customer optional."""
    _text(cmd.idempotency_key, "idempotency_key", limit=MAX_KEY)
    _text(cmd.customer_id, "customer_id")
    _validate_order(cmd)


def _validate_order(cmd: PlaceOrder) -> None:
    check_currency(cmd.currency)
    if not cmd.lines:
        raise InvalidArgument("lines is empty: an order needs at least one line", field="lines")
    if len(cmd.lines) > MAX_LINES:
        raise InvalidArgument(
            f"lines has {len(cmd.lines)} entries; at most {MAX_LINES} lines per order",
            field="lines",
        )
    for i, line in enumerate(cmd.lines):
        _text(line.sku, f"lines[{i}].sku", required=True, limit=64)
        if line.quantity <= 0:
            raise InvalidArgument(
                f"lines[{i}].quantity must be at least 1, got {line.quantity}",
                field=f"lines[{i}].quantity",
            )
        if line.quantity > MAX_QUANTITY:
            raise InvalidArgument(
                f"lines[{i}].quantity {line.quantity} is over the limit of {MAX_QUANTITY}",
                field=f"lines[{i}].quantity",
            )
    addr = cmd.ship_to
    for name in ("name", "line1", "city", "postal_code", "country"):
        _text(getattr(addr, name), f"ship_to.{name}", required=True)
    for name in ("line2", "region", "phone"):
        _text(getattr(addr, name), f"ship_to.{name}")
    if not (-90 <= addr.latitude <= 90 and -180 <= addr.longitude <= 180):
        raise InvalidArgument("ship_to latitude/longitude are out of range", field="ship_to")
    _validate_payment(cmd.payment)
    if cmd.contact is not None:
        validate_contact(cmd.contact)
    # A card number must never be stored or logged, wherever a client puts it. The server
    # refuses one in any field before this runs (server/fields.py); this is the same rule for
    # callers of the core itself. contains_card_number passes UUID, ULID and hex keys.
    texts = [(name, getattr(cmd, name)) for name in ("customer_id", "idempotency_key")]
    texts += [(f"ship_to.{name}", getattr(addr, name)) for name in _ADDRESS_TEXT]
    for name, value in texts:
        if contains_card_number(value):
            raise card_number_in(name)


def card_number_in(name: str) -> InvalidArgument:
    """The refusal of a field that holds a card number (the same words as the server's)."""
    return InvalidArgument(f"{name} looks like a card number; send the gateway's token",
                           field=name)


def _validate_payment(payment: PaymentRequest) -> None:
    if payment.method == PaymentMethod.CARD:
        token = payment.card_token
        _text(token, "payment.card.token", required=True, limit=MAX_TOKEN)
        if contains_card_number(token):
            raise card_number_in("payment.card.token")
    elif payment.method == PaymentMethod.UPI:
        vpa = payment.upi_vpa
        _text(vpa, "payment.upi.vpa", required=True, limit=100)
        if contains_card_number(vpa):  # (before the format error, which quotes the value)
            raise card_number_in("payment.upi.vpa")
        if vpa.count("@") != 1 or vpa.startswith("@") or vpa.endswith("@") or " " in vpa:
            raise InvalidArgument(
                f"payment.upi.vpa must look like name@bank, got {vpa[:40]!r}",
                field="payment.upi.vpa",
            )
