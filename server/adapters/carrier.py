"""The carrier adapter: book shipments, read their tracking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import CarrierRejected, CarrierUnavailable
from .http_retry import JsonHttpClient, RetryPolicy, idempotency_key

__all__ = [
    "CarrierClient",
    "CarrierRejected",
    "CarrierUnavailable",
    "Shipment",
    "ShipmentTracking",
    "TrackingEvent",
]


@dataclass(frozen=True)
class Shipment:
    """A booked parcel: what goes on the label."""

    tracking_number: str
    carrier: str
    service: str
    status: str


@dataclass(frozen=True)
class TrackingEvent:
    """One scan of the parcel on its way."""

    status: str
    location: str
    at: int  # unix seconds


@dataclass(frozen=True)
class ShipmentTracking:
    """A shipment's current status and its history."""

    tracking_number: str
    carrier: str
    service: str
    status: str  # created | in_transit | out_for_delivery | delivered
    reference: str
    events: tuple[TrackingEvent, ...]


class CarrierClient(JsonHttpClient):
    """The carrier over HTTP, with the gateway's retry and idempotency-key rules."""

    unavailable_error = CarrierUnavailable
    rejected_error = CarrierRejected
    party = "carrier"

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        max_attempts: int = 4,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 2.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        policy = RetryPolicy(timeout_s, max_attempts, backoff_initial_s, backoff_max_s)
        super().__init__(base_url, policy=policy, client=client)

    async def create_shipment(
        self,
        *,
        order_id: str,
        service: str,
        weight_grams: int,
        ship_to: Mapping[str, Any],
        ship_from: Mapping[str, Any],
        step: str = "shipment",
    ) -> Shipment:
        """Book a parcel; step must differ per shipment of one order (e.g. "shipment-<id>")."""
        _, body = await self.call(
            "POST",
            "/v1/shipments",
            step=step,
            order_id=order_id,
            key=idempotency_key(order_id, step),
            json={
                "reference": order_id,
                "service": service,
                "weight_grams": weight_grams,
                "ship_to": dict(ship_to),
                "ship_from": dict(ship_from),
            },
        )
        return Shipment(
            tracking_number=str(body["tracking_number"]),
            carrier=str(body["carrier"]),
            service=str(body["service"]),
            status=str(body["status"]),
        )

    async def get_shipment(
        self, tracking_number: str, *, order_id: str | None = None
    ) -> ShipmentTracking:
        """Poll a parcel's tracking (the fallback when no webhook arrives)."""
        _, body = await self.call(
            "GET", f"/v1/shipments/{tracking_number}", step="tracking-poll", order_id=order_id
        )
        return ShipmentTracking(
            tracking_number=str(body["tracking_number"]),
            carrier=str(body["carrier"]),
            service=str(body["service"]),
            status=str(body["status"]),
            reference=str(body.get("reference") or ""),
            events=tuple(
                TrackingEvent(
                    status=str(e["status"]), location=str(e.get("location") or ""), at=int(e["at"])
                )
                for e in body.get("events") or ()
            ),
        )
