"""The sandbox carrier: shipments with tracking numbers that advance to delivered."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .idempotency import Call, guarded
from .wire import SandboxError, error_response, json_response, read_json, require_int, require_str

CARRIER_NAME = "sandbox"
SERVICES = ("ground", "express", "same_day")
# Each advance moves a shipment one step along this track.
TRACK = ("created", "in_transit", "out_for_delivery", "delivered")
_LOCATIONS = {
    "in_transit": "Sorting hub",
    "out_for_delivery": "Local delivery station",
    "delivered": "Front door",
}


@dataclass
class Shipment:
    """A parcel the carrier accepted, with its tracking history."""

    tracking_number: str
    reference: str
    service: str
    weight_grams: int
    ship_to: dict[str, Any]
    ship_from: dict[str, Any]
    status: str = "created"
    events: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The shipment as JSON (also the data of its webhooks)."""
        return {
            "tracking_number": self.tracking_number,
            "object": "shipment",
            "carrier": CARRIER_NAME,
            "service": self.service,
            "status": self.status,
            "reference": self.reference,
            "weight_grams": self.weight_grams,
            "events": list(self.events),
        }


class ShipmentBook:
    """Shipments by tracking number."""

    def __init__(self) -> None:
        self._shipments: dict[str, Shipment] = {}

    def get(self, tracking_number: str) -> Shipment:
        """The shipment, else 404."""
        shipment = self._shipments.get(tracking_number)
        if shipment is None:
            raise SandboxError(404, "not_found", f"no shipment {tracking_number!r}")
        return shipment

    def create(self, body: dict[str, Any], now: float) -> Shipment:
        """Accept a parcel and give it a new tracking number."""
        service = body.get("service") or "ground"
        if service not in SERVICES:
            raise SandboxError(400, "invalid_request", f"'service' must be one of {SERVICES}")
        for name in ("ship_to", "ship_from"):
            if not isinstance(body.get(name), dict):
                raise SandboxError(400, "invalid_request", f"'{name}' must be an address object")
        shipment = Shipment(
            tracking_number=self._new_tracking_number(),
            reference=require_str(body, "reference"),
            service=service,
            weight_grams=require_int(body, "weight_grams", minimum=1),
            ship_to=body["ship_to"],
            ship_from=body["ship_from"],
        )
        shipment.events.append({"status": "created", "location": "", "at": int(now)})
        self._shipments[shipment.tracking_number] = shipment
        return shipment

    def _new_tracking_number(self) -> str:
        # "TT" + 10 digits: only characters Code 128 encodes compactly, never reused.
        while True:
            number = "TT" + "".join(secrets.choice("0123456789") for _ in range(10))
            if number not in self._shipments:
                return number

    def advance(self, tracking_number: str, location: str | None, now: float) -> Shipment:
        """Move the shipment to its next tracking status; 409 once delivered."""
        shipment = self.get(tracking_number)
        position = TRACK.index(shipment.status)
        if position == len(TRACK) - 1:
            raise SandboxError(
                409, "already_delivered", f"shipment {tracking_number} is already delivered"
            )
        shipment.status = TRACK[position + 1]
        shipment.events.append(
            {
                "status": shipment.status,
                "location": location or _LOCATIONS[shipment.status],
                "at": int(now),
            }
        )
        return shipment


def _create(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.state.shipments.create(call.body, call.state.clock()).public()


def _get(call: Call) -> tuple[int, dict[str, Any]]:
    return 200, call.state.shipments.get(call.path_params["tracking_number"]).public()


async def create_shipment(request: Request) -> Response:
    """POST /v1/shipments — tote books a parcel for an order (reference = order id)."""
    return await guarded(request, "shipment", _create)


async def get_shipment(request: Request) -> Response:
    """GET /v1/shipments/{tracking_number} — tote's polling fallback for tracking."""
    return await guarded(request, "shipment_get", _get, idempotent=False)


async def advance_shipment(request: Request) -> Response:
    """POST /v1/shipments/{tracking_number}/advance — the parcel moves on; tote is notified."""
    state = request.app.state.sandbox
    try:
        body = await read_json(request)
        location = body.get("location")
        shipment = state.shipments.advance(
            request.path_params["tracking_number"],
            location if isinstance(location, str) else None,
            state.clock(),
        )
    except SandboxError as error:
        return error_response(error)
    state.notifier.emit("shipment.tracking_updated", shipment.public(), route="shipment")
    return json_response(200, shipment.public())
