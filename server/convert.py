"""Between tote.v1 messages and the core's commands and rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from core.domain.commands import Address, LineRequest, PaymentRequest, PlaceOrder
from core.domain.contact import CustomerContact
from core.domain.errors import InvalidArgument
from core.domain.order import PaymentMethod
from core.domain.saga import SagaState
from core.persistence.models import FulfillmentCenter, OrderEvent, Product, StockLevel
from core.service.catalog import FcData, ProductData
from core.service.handlers.orders import Placed
from core.service.orders import OrderSnapshot, PricedOrder
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

# The generated stubs type each enum constant as the enum class; its items() are plain ints.
_STATUS: dict[str, pb.OrderStatus] = {
    name.removeprefix("ORDER_STATUS_"): cast("pb.OrderStatus", value)
    for name, value in pb.OrderStatus.items() if value}
_STATUS_NAME: dict[int, str] = {v: k for k, v in _STATUS.items()}


def status_to_pb(status: str) -> pb.OrderStatus:
    """The wire enum value for a core status."""
    return _STATUS[status]


def status_from_pb(value: int) -> str | None:
    """The core status for a wire enum value; None for UNSPECIFIED (no filter)."""
    if value == 0:
        return None
    if value not in _STATUS_NAME:
        raise InvalidArgument(f"status {value} is not an OrderStatus", field="status")
    return _STATUS_NAME[value]


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def money(amount_minor: int, currency: str) -> pb.Money:
    return pb.Money(amount_minor=amount_minor, currency=currency)


def address_from_pb(a: pb.Address) -> Address:
    return Address(name=a.name, line1=a.line1, line2=a.line2, city=a.city, region=a.region,
                   postal_code=a.postal_code, country=a.country, phone=a.phone,
                   latitude=a.latitude, longitude=a.longitude)


def place_order_from_pb(req: orders_pb2.PlaceOrderRequest, storefront: str) -> PlaceOrder:
    """The PlaceOrder command; prices and totals a client sends are ignored."""
    return PlaceOrder(
        storefront=storefront, idempotency_key=req.idempotency_key, customer_id=req.customer_id,
        lines=tuple(LineRequest(line.sku, line.quantity) for line in req.lines),
        ship_to=address_from_pb(req.ship_to), payment=_payment_from_pb(req.payment),
        currency=req.currency,
        contact=CustomerContact(req.contact.email, req.contact.phone, req.contact.locale)
        if req.HasField("contact") else None,
    )


def quote_order_from_pb(req: orders_pb2.QuoteOrderRequest, storefront: str) -> PlaceOrder:
    """The order a QuoteOrder prices: PlaceOrder's command without an idempotency key."""
    return PlaceOrder(
        storefront=storefront, idempotency_key="", customer_id=req.customer_id,
        lines=tuple(LineRequest(line.sku, line.quantity) for line in req.lines),
        ship_to=address_from_pb(req.ship_to), payment=_payment_from_pb(req.payment),
        currency=req.currency,
    )


def _payment_from_pb(p: pb.PaymentMethod) -> PaymentRequest:
    which = p.WhichOneof("method")
    if which is None:
        raise InvalidArgument("payment is required: card (a gateway token), upi (a VPA) or cod",
                              field="payment")
    return PaymentRequest(
        method=PaymentMethod(which),
        card_token=p.card.token if which == "card" else "",
        upi_vpa=p.upi.vpa if which == "upi" else "",
    )


def quote_to_pb(q: PricedOrder) -> orders_pb2.Quote:
    cur = q.currency
    return orders_pb2.Quote(
        lines=[pb.OrderLine(sku=sku, quantity=n, unit_price=money(q.products[sku][0], cur))
               for sku, n in q.lines],
        subtotal=money(q.subtotal_minor, cur), shipping_fee=money(q.shipping_fee_minor, cur),
        total=money(q.total.amount_minor, cur), weight_grams=q.weight_grams)


def order_to_pb(snap: OrderSnapshot, *, contact: bool = False) -> pb.Order:
    """The order on the wire; `contact`: with the customer's contact (the OrderService answers
    storefronts and supervisors; a picker's or a carrier's reply never carries it)."""
    o = snap.order
    cur = o.currency
    payment = pb.PaymentInfo(
        method=o.payment_method, state=o.payment_state,
        upi_intent_id=o.upi_intent_id or "", upi_intent_uri=o.upi_intent_uri or "",
        authorized=money(o.authorized_minor, cur), captured=money(o.captured_minor, cur),
        refunded=money(o.refunded_minor or 0, cur),
        upi_expires_at=ts(o.upi_expires_at), failure_reason=o.failure_reason or "",
    )
    parcels = [pb.Shipment(shipment_id=s.shipment_id, fc_id=s.fc_id, status=s.status,
                           carrier=s.carrier or "", tracking_number=s.tracking_number or "",
                           lines=[pb.OrderLine(sku=sku, quantity=q) for sku, q in units])
               for s, units in snap.shipments]
    first = next((p for p in parcels if p.tracking_number), None)
    return pb.Order(
        shipments=parcels, carrier=first.carrier if first else "",
        tracking_number=first.tracking_number if first else "",
        order_id=o.order_id, customer_id=o.customer_id, status=status_to_pb(o.status),
        lines=[pb.OrderLine(sku=ln.sku, quantity=ln.quantity,
                            unit_price=money(ln.unit_price_minor, cur)) for ln in snap.lines],
        ship_to=pb.Address(**o.ship_to), total=money(o.total_minor, cur), payment=payment,
        fc_id=o.fc_id or "", cancel_reason=o.cancel_reason or "", created_at=ts(o.created_at),
        shipping_fee=money(o.shipping_fee_minor, cur), updated_at=ts(o.updated_at),
        idempotency_key=o.idempotency_key,
        contact=pb.CustomerContact(email=o.contact_email or "", phone=o.contact_phone or "",
                                   locale=o.contact_locale or "")
        if contact and (o.contact_email or o.contact_phone or o.contact_locale) else None,
    )


def placed_reply(placed: Placed) -> tuple[pb.Order, SagaState | None]:
    """PlaceOrder's reply and the new order's saga state (None for a retry). The servicer has
    it built where the command ran (`DbExecutor.execute(cmd, placed_reply)`: in the SQLite
    writer's process, off the event loop every RPC shares)."""
    snap, started = placed
    return order_to_pb(snap, contact=True), started


def event_to_pb(e: OrderEvent) -> pb.OrderEvent:
    return pb.OrderEvent(event_id=str(e.event_id), order_id=e.order_id, type=e.type,
                         status=status_to_pb(e.status), occurred_at=ts(e.occurred_at),
                         detail=e.detail)


def event_json(e: OrderEvent) -> bytes:
    """The event as the NATS relay publishes it: tote.v1.OrderEvent in protobuf's JSON mapping,
    proto field names (event_id, order_id, occurred_at...)."""
    return json.dumps(json_format.MessageToDict(event_to_pb(e), preserving_proto_field_name=True),
                      separators=(",", ":")).encode()


def product_to_pb(p: Product) -> pb.Product:
    return pb.Product(sku=p.sku, name=p.name, gtin=p.gtin,
                      unit_price=money(p.unit_price_minor, p.currency),
                      weight_grams=p.weight_grams)


def product_from_pb(p: pb.Product) -> ProductData:
    return ProductData(sku=p.sku, name=p.name, gtin=p.gtin,
                       unit_price_minor=p.unit_price.amount_minor,
                       currency=p.unit_price.currency, weight_grams=p.weight_grams)


def stock_to_pb(s: StockLevel) -> pb.StockLevel:
    return pb.StockLevel(fc_id=s.fc_id, sku=s.sku, on_hand=s.on_hand, soft_locked=s.soft_locked,
                         hard_locked=s.hard_locked,
                         available=s.on_hand - s.soft_locked - s.hard_locked, bin=s.bin)


_ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country",
                   "phone", "latitude", "longitude")


def fc_to_pb(fc: FulfillmentCenter) -> pb.FulfillmentCenter:
    return pb.FulfillmentCenter(
        fc_id=fc.fc_id, name=fc.name, latitude=fc.latitude, longitude=fc.longitude,
        cutoff_hour=fc.cutoff_hour, daily_capacity=fc.daily_capacity,
        confirm_bin_scan=bool(fc.confirm_bin_scan),
        # Unset (not an empty Address) when the FC has no return address.
        address=pb.Address(**{k: v for k, v in fc.address.items() if k in _ADDRESS_FIELDS})
        if fc.address else None)


def fc_from_pb(fc: pb.FulfillmentCenter) -> FcData:
    a = fc.address
    return FcData(fc_id=fc.fc_id, name=fc.name, latitude=fc.latitude, longitude=fc.longitude,
                  cutoff_hour=fc.cutoff_hour, daily_capacity=fc.daily_capacity,
                  address={k: getattr(a, k) for k in _ADDRESS_FIELDS}
                  if fc.HasField("address") else None,
                  confirm_bin_scan=fc.confirm_bin_scan)
