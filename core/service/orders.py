"""Placing, reading, listing and cancelling orders (each function runs inside one transaction)."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.commands import PlaceOrder, validate_place_order, validate_quote_order
from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.money import Money
from core.domain.order import (
    CANCELLABLE,
    InventoryState,
    OrderStatus,
    PaymentMethod,
    PaymentState,
)
from core.domain.shipping import RateTable
from core.domain.words import count
from core.persistence.models import Order, OrderLine
from core.persistence.repos import orders as repo
from core.persistence.repos import shipments as shipment_repo
from core.persistence.repos.orders import OrderLineRecord, OrderRecord, ProductPrice
from core.persistence.repos.shipments import Parcel
from core.service import events


@dataclass(frozen=True, slots=True)
class OrderSettings:
    """The order rules a deployment configures."""

    rate_table: RateTable = field(default_factory=RateTable)
    cod_limit_minor: int = 5_000_000
    upi_expiry: timedelta = timedelta(minutes=15)
    upi_payee_vpa: str = "tote@sandbox"
    upi_payee_name: str = "tote"
    saga_lease: timedelta = timedelta(seconds=15)
    # Delivery is promised this many days after placement (routing tries to keep it).
    promise_days: int = 3


@dataclass(slots=True)
class OrderSnapshot:
    """An order row with its lines, detached from the session.

    PlaceOrder answers with typed records carrying the same attributes as the models (building
    ORM instances only to read them back cost more than the INSERTs); `load` with the models.
    """

    order: Order | OrderRecord
    lines: list[OrderLine] | list[OrderLineRecord]
    # (parcel, [(sku, units)]) per parcel, oldest first; filled by `load` only.
    shipments: list[tuple[Parcel, list[tuple[str, int]]]] = field(default_factory=list)


INITIAL_PAYMENT_STATE = {
    PaymentMethod.CARD: PaymentState.AUTHORIZING,
    PaymentMethod.UPI: PaymentState.INTENT_REGISTERING,
    PaymentMethod.COD: PaymentState.COD_PENDING,
}


def place_order(
    session: Session, cmd: PlaceOrder, settings: OrderSettings, now: datetime
) -> tuple[OrderSnapshot, bool]:
    """Store a new PENDING order with Order_Created; a retry of the same request returns it.

    Returns (order, created). The card authorization is recorded as under way in this same
    transaction, so a crash before the gateway answers resumes with the same idempotency key.
    """
    validate_place_order(cmd)
    conn = session.connection()
    request_hash = cmd.request_hash()
    existing_soon = repo.by_idempotency_key_soon(conn, cmd.storefront, cmd.idempotency_key)
    catalog = repo.product_prices_soon(conn, [line.sku for line in cmd.lines])
    existing = existing_soon.get()  # and the prices with it: one round trip on PostgreSQL
    if existing is not None:
        existing_id, existing_hash = existing
        if existing_hash != request_hash:
            raise FailedPrecondition(
                f"idempotency_key {cmd.idempotency_key!r} was already used for a different "
                f"request (order {existing_id}); use a new key for a new order"
            )
        return as_placed(load(session, existing_id)), False

    priced = price_order(conn, cmd, settings, catalog.get())
    products, subtotal, weight, fee = (priced.products, priced.subtotal_minor,
                                       priced.weight_grams, priced.shipping_fee_minor)
    total = priced.total
    method = cmd.payment.method

    order_id = new_id("ord")
    order = OrderRecord(
        order_id=order_id, storefront=cmd.storefront, idempotency_key=cmd.idempotency_key,
        request_hash=request_hash, customer_id=cmd.customer_id, currency=cmd.currency,
        subtotal_minor=subtotal, shipping_fee_minor=fee, total_minor=total.amount_minor,
        weight_grams=weight, ship_to=_address_dict(cmd), status=OrderStatus.PENDING,
        inventory_state=InventoryState.PENDING, payment_method=method,
        payment_state=INITIAL_PAYMENT_STATE[method], payment_token=None, upi_vpa=None,
        upi_intent_id=None, upi_intent_uri=None, upi_expires_at=None, authorization_id=None,
        authorized_minor=0, captured_minor=0, refunded_minor=0, capture_id=None,
        settled_at=None, failure_reason=None, cancel_requested=None,
        cancel_reason=None, fc_id=None, saga_due_at=now + settings.saga_lease,
        saga_leased=True,  # this replica runs it now (its kick), until the lease ends
        promised_by=now + timedelta(days=settings.promise_days),
        created_at=now, updated_at=now,
    )
    contact = cmd.contact
    if contact is not None and (contact.email or contact.phone or contact.locale):
        order.contact_email = contact.email or None
        order.contact_phone = contact.phone or None
        order.contact_locale = contact.locale or None
    if method == PaymentMethod.CARD:
        order.payment_token = cmd.payment.card_token
    elif method == PaymentMethod.UPI:
        intent_id = "upi_" + order_id.split("_", 1)[1]
        order.upi_vpa, order.upi_intent_id = cmd.payment.upi_vpa, intent_id
        order.upi_expires_at = now + settings.upi_expiry
        order.upi_intent_uri = upi_uri(settings, intent_id, order_id, total)
    elif method == PaymentMethod.COD:
        order.authorized_minor = total.amount_minor
    lines = [OrderLineRecord(order_id, i + 1, ln.sku, ln.quantity, products[ln.sku][0],
                             products[ln.sku][2])
             for i, ln in enumerate(cmd.lines)]
    # Not the ORM's unit of work: this is the hot path of PlaceOrder.
    repo.insert_order(conn, order, lines)
    units = sum(ln.quantity for ln in cmd.lines)
    events.record(conn, order, EventType.ORDER_CREATED, now,
                  f"{count(len(lines), 'line')}, {count(units, 'unit')}, total {total} "
                  f"by {method}")
    if method == PaymentMethod.COD:
        events.record(conn, order, EventType.PAYMENT_AUTHORIZED, now,
                      f"cash on delivery: {total} to collect at the door")
    return OrderSnapshot(order, lines), True


@dataclass(frozen=True, slots=True)
class PricedOrder:
    """An order's lines priced from the catalog, with the shipping fee: what is authorized."""

    currency: str
    # (unit price minor, currency, weight grams) per SKU
    products: dict[str, tuple[int, str, int]]
    lines: tuple[tuple[str, int], ...]
    subtotal_minor: int
    weight_grams: int
    shipping_fee_minor: int

    @property
    def total(self) -> Money:
        return Money(self.subtotal_minor + self.shipping_fee_minor, self.currency)


def price_order(conn: Connection, cmd: PlaceOrder, settings: OrderSettings,
                catalog: dict[str, ProductPrice] | None = None) -> PricedOrder:
    """Price a validated order: catalog prices (never the client's) plus the quoted fee.

    The one place an order is priced: PlaceOrder stores what this returns, QuoteOrder shows
    it. NOT_FOUND for a SKU not in the catalog; INVALID_ARGUMENT for a currency mismatch or a
    cash-on-delivery total over the limit.
    """
    # (unit price, currency, weight) per SKU: one lookup per distinct SKU by primary key, all
    # in one round trip (unless the caller read them already: `catalog`)
    if catalog is None:
        catalog = repo.product_prices_soon(conn, [line.sku for line in cmd.lines]).get()
    products: dict[str, tuple[int, str, int]] = {}
    for i, line in enumerate(cmd.lines):
        if line.sku not in products:
            found = catalog.get(line.sku)
            if found is None:
                raise NotFound(f"lines[{i}].sku {line.sku!r} is not in the catalog")
            products[line.sku] = found
        if products[line.sku][1] != cmd.currency:
            raise InvalidArgument(
                f"lines[{i}] {line.sku} is priced in {products[line.sku][1]} but the order is "
                f"in {cmd.currency}", field="currency")
    subtotal = sum(products[ln.sku][0] * ln.quantity for ln in cmd.lines)
    weight = sum(products[ln.sku][2] * ln.quantity for ln in cmd.lines)
    priced = PricedOrder(
        currency=cmd.currency, products=products,
        lines=tuple((ln.sku, ln.quantity) for ln in cmd.lines), subtotal_minor=subtotal,
        weight_grams=weight, shipping_fee_minor=settings.rate_table.quote(weight))
    total = priced.total
    if cmd.payment.method == PaymentMethod.COD and total.amount_minor > settings.cod_limit_minor:
        limit = Money(settings.cod_limit_minor, cmd.currency)
        raise InvalidArgument(
            f"cash on delivery is accepted up to {limit} per order; this order totals {total} "
            "— pay by card or UPI, or split the order", field="payment.cod")
    return priced


def quote_order(session: Session, cmd: PlaceOrder, settings: OrderSettings) -> PricedOrder:
    """What PlaceOrder would authorize for this request now; stores and locks nothing."""
    validate_quote_order(cmd)
    return price_order(session.connection(), cmd, settings)


def _address_dict(cmd: PlaceOrder) -> dict[str, object]:
    a = cmd.ship_to
    return {"name": a.name, "line1": a.line1, "line2": a.line2, "city": a.city,
            "region": a.region, "postal_code": a.postal_code, "country": a.country,
            "phone": a.phone, "latitude": a.latitude, "longitude": a.longitude}


def upi_uri(settings: OrderSettings, intent_id: str, order_id: str, total: Money) -> str:
    """The UPI deep link the customer's app opens (NPCI's upi://pay parameters)."""
    query = urllib.parse.urlencode({
        "pa": settings.upi_payee_vpa, "pn": settings.upi_payee_name, "tr": intent_id,
        "tn": f"Order {order_id}", "am": total.decimal_str(), "cu": total.currency,
    }, quote_via=urllib.parse.quote)
    return f"upi://pay?{query}"


def as_placed(snapshot: OrderSnapshot) -> OrderSnapshot:
    """The order as PlaceOrder first returned it, so retries get identical replies."""
    o = snapshot.order
    method = PaymentMethod(o.payment_method)
    placed = repo.of_model(o) if isinstance(o, Order) else replace(o)
    placed.status = OrderStatus.PENDING
    placed.payment_state = INITIAL_PAYMENT_STATE[method]
    placed.authorization_id = None
    placed.authorized_minor = o.total_minor if method == PaymentMethod.COD else 0
    placed.captured_minor = 0
    placed.failure_reason = placed.cancel_requested = placed.cancel_reason = None
    placed.fc_id = None
    placed.updated_at = o.created_at
    # No parcels either: the first reply was given before the order had any.
    return replace(snapshot, order=placed, shipments=[])


def load(session: Session, order_id: str, storefront: str | None = None) -> OrderSnapshot:
    """An order with its lines; a storefront sees only its own (others are NOT_FOUND)."""
    order = repo.get(session, order_id)
    if order is None or (storefront is not None and order.storefront != storefront):
        raise NotFound(f"no order {order_id[:64]!r}")
    lines = repo.lines_of(session, [order_id])[order_id]
    return OrderSnapshot(order, lines, _shipments(session, order_id))


def _shipments(session: Session, order_id: str) -> list[tuple[Parcel, list[tuple[str, int]]]]:
    """The order's parcels with the units in each (picked, else still to pick)."""
    conn = session.connection()
    parcels = shipment_repo.parcels_of(conn, order_id)
    units: dict[str, list[tuple[str, int]]] = {p.shipment_id: [] for p in parcels}
    if parcels:
        for shipment_id, sku, quantity, missing in shipment_repo.units_of(conn, order_id):
            if shipment_id in units and quantity > missing:
                units[shipment_id].append((sku, quantity - missing))
    return [(p, units[p.shipment_id]) for p in parcels]


def list_orders(
    session: Session, *, storefront: str | None, status: str | None, fc_id: str,
    customer_id: str, page_size: int, page_token: str,
) -> tuple[list[OrderSnapshot], str]:
    """Orders newest first, filtered, with an opaque token for the next page.

    The token is a keyset cursor: the last order id listed, so the next page starts below it
    with one index range read however deep the page (an offset would read every row before
    it), and an order placed meanwhile (a newer id) or leaving the filter moves no other order
    across the page boundary. It carries a digest of the listing's scope and filters, so a
    token is refused by a listing it was not given for.
    """
    if page_size < 0:
        raise InvalidArgument("page_size must not be negative", field="page_size")
    size = min(page_size or 50, 500)
    scope = _scope_digest(storefront, status, fc_id, customer_id)
    rows = repo.page(session, size=size + 1,
                     before=_cursor(page_token, scope) if page_token else None,
                     storefront=storefront, status=status, fc_id=fc_id,
                     customer_id=customer_id)
    token = ""
    if len(rows) > size:
        rows = rows[:size]
        token = _token(rows[-1].order_id, scope)
    lines = repo.lines_of(session, [o.order_id for o in rows])
    return [OrderSnapshot(o, lines[o.order_id]) for o in rows], token


_ORDER_ID = re.compile(r"ord_[0-9A-HJKMNP-TV-Z]{26}")
_TOKEN_VERSION = "k1"
_INVALID_TOKEN = ("page_token is not one this server gave out: pass the next_page_token of "
                  "the previous reply")


def _scope_digest(storefront: str | None, status: str | None, fc_id: str,
                  customer_id: str) -> str:
    """Who lists with which filters, digested: what a token is valid for (not a secret)."""
    text = "\x1f".join((storefront or "*", status or "", fc_id, customer_id))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def _token(after: str, scope: str) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_VERSION}.{scope}.{after}".encode()).decode()


def _cursor(page_token: str, scope: str) -> str:
    """The order id a page token carries, if this listing gave it out (else INVALID_ARGUMENT)."""
    try:
        # validate=True: a lenient decode drops stray characters and turns '%%%%' into ''.
        text = base64.b64decode(page_token.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeError):
        text = ""
    if _ORDER_ID.fullmatch(text):
        # A bare order id: the token earlier servers gave out (no scope to check), still
        # honoured so a client paging during a rolling upgrade is not cut off.
        return text
    version, _, rest = text.partition(".")
    given_scope, _, after = rest.partition(".")
    if version != _TOKEN_VERSION or not _ORDER_ID.fullmatch(after):
        raise InvalidArgument(_INVALID_TOKEN, field="page_token")
    if given_scope != scope:
        raise InvalidArgument(
            "page_token was given for a listing with other filters (status, fc_id, "
            "customer_id) or by another caller: repeat the first call's filters, or start "
            "again without a page_token", field="page_token")
    return after


def request_cancel(
    session: Session, order_id: str, reason: str, storefront: str | None, now: datetime
) -> None:
    """Ask the saga to cancel an order (before PACKED); the compensations run right after."""
    if len(reason) > 500:
        raise InvalidArgument("reason is at most 500 characters", field="reason")
    order = repo.get(session, order_id, for_update=True)
    if order is None or (storefront is not None and order.storefront != storefront):
        raise NotFound(f"no order {order_id[:64]!r}")
    if order.status == OrderStatus.CANCELLED:
        return
    if order.status not in CANCELLABLE:
        raise FailedPrecondition(
            f"order {order_id} is {order.status}: it can be cancelled only before it is "
            "packed (after that, refuse the delivery or return it)")
    packing = shipment_repo.one_packing(session.connection(), order_id)
    if packing is not None:
        # The final capture is under way (or done): a void now would race it.
        raise FailedPrecondition(
            f"order {order_id} is being packed (shipment {packing}): it can no longer be "
            "cancelled; refuse the delivery or return it")
    if order.cancel_requested is None:
        who = "the customer" if storefront is not None else "a supervisor"
        order.cancel_requested = f"cancelled by {who}: {reason or 'no reason given'}"
        order.saga_due_at = now
        order.updated_at = now
