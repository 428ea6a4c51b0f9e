"""A storefront webhook's body: the event and the order in protobuf's JSON mapping.

The body is made when the event is fanned out, inside the outbox's transaction, where protobuf
may not be imported (core is below the edge); so this module writes the mapping of
tote.v1.OrderEvent and tote.v1.Order itself, as `json_format.MessageToDict(msg,
preserving_proto_field_name=True)` would (proto field names — the NATS relay's too — enum
names, int64 as strings, RFC 3339 timestamps, default values left out).
tests/integration/test_storefront_webhook_body.py compares it with that function on real
orders: a field added to the messages and to server/convert.py fails there until added here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from core.persistence.models import OrderEvent
from core.service.orders import OrderSnapshot


def timestamp(value: datetime) -> str:
    """google.protobuf.Timestamp's JSON: UTC, 'Z', 0, 3, 6 or 9 fractional digits."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros % 1000 == 0 and micros:
        text += f".{micros // 1000:03d}"
    elif micros:
        text += f".{micros:06d}"
    return text + "Z"


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """Set a scalar unless it is its type's default (proto3 JSON leaves those out)."""
    if value not in (None, "", 0, 0.0, False):
        out[key] = value


def _money(amount_minor: int, currency: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "amount_minor", str(amount_minor) if amount_minor else None)
    _put(out, "currency", currency)
    return out


def _line(sku: str, quantity: int, price: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _put(out, "sku", sku)
    _put(out, "quantity", quantity)
    if price is not None:
        out["unit_price"] = price
    return out


def _status(status: str) -> str:
    return f"ORDER_STATUS_{status}"


def event_json(e: OrderEvent) -> dict[str, Any]:
    """tote.v1.OrderEvent as JSON."""
    out: dict[str, Any] = {"event_id": str(e.event_id)}
    _put(out, "order_id", e.order_id)
    _put(out, "type", e.type)
    out["status"] = _status(e.status)
    out["occurred_at"] = timestamp(e.occurred_at)
    _put(out, "detail", e.detail)
    return out


def order_json(snap: OrderSnapshot) -> dict[str, Any]:
    """tote.v1.Order as GetOrder answers it, as JSON."""
    o = snap.order
    cur = o.currency
    payment: dict[str, Any] = {}
    _put(payment, "method", o.payment_method)
    _put(payment, "state", o.payment_state)
    _put(payment, "upi_intent_id", o.upi_intent_id)
    _put(payment, "upi_intent_uri", o.upi_intent_uri)
    payment["authorized"] = _money(o.authorized_minor, cur)
    payment["captured"] = _money(o.captured_minor, cur)
    if o.upi_expires_at is not None:
        payment["upi_expires_at"] = timestamp(o.upi_expires_at)
    _put(payment, "failure_reason", o.failure_reason)
    payment["refunded"] = _money(o.refunded_minor or 0, cur)
    parcels = []
    for s, units in snap.shipments:
        parcel: dict[str, Any] = {}
        _put(parcel, "shipment_id", s.shipment_id)
        _put(parcel, "fc_id", s.fc_id)
        _put(parcel, "status", s.status)
        _put(parcel, "carrier", s.carrier)
        _put(parcel, "tracking_number", s.tracking_number)
        if units:
            parcel["lines"] = [_line(sku, q) for sku, q in units]
        parcels.append(parcel)
    first = next((p for p in parcels if p.get("tracking_number")), None)
    ship_to: dict[str, Any] = {}
    for key, value in o.ship_to.items():
        _put(ship_to, key, value)
    out: dict[str, Any] = {}
    _put(out, "order_id", o.order_id)
    _put(out, "customer_id", o.customer_id)
    out["status"] = _status(o.status)
    if snap.lines:
        out["lines"] = [_line(ln.sku, ln.quantity, _money(ln.unit_price_minor, cur))
                        for ln in snap.lines]
    out["ship_to"] = ship_to
    out["total"] = _money(o.total_minor, cur)
    out["payment"] = payment
    _put(out, "fc_id", o.fc_id)
    _put(out, "carrier", first.get("carrier") if first else None)
    _put(out, "tracking_number", first.get("tracking_number") if first else None)
    _put(out, "cancel_reason", o.cancel_reason)
    out["created_at"] = timestamp(o.created_at)
    if parcels:
        out["shipments"] = parcels
    out["shipping_fee"] = _money(o.shipping_fee_minor, cur)
    out["updated_at"] = timestamp(o.updated_at)
    _put(out, "idempotency_key", o.idempotency_key)
    return out


def body(event: OrderEvent, order: dict[str, Any]) -> str:
    """The POST body: {"type", "timestamp", "data": {"event", "order"}}, compact JSON."""
    return json.dumps({"type": event.type, "timestamp": timestamp(event.occurred_at),
                       "data": {"event": event_json(event), "order": order}},
                      separators=(",", ":"), ensure_ascii=False)
