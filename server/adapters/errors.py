"""What the gateway and carrier adapters raise (defined in core/service/ports.py, where the
sagas that catch them can see them)."""

from __future__ import annotations

from core.service.ports import (
    AdapterError,
    CarrierRejected,
    CarrierUnavailable,
    GatewayRejected,
    GatewayUnavailable,
    UpstreamRejected,
    UpstreamUnavailable,
)

__all__ = [
    "AdapterError",
    "CarrierRejected",
    "CarrierUnavailable",
    "GatewayRejected",
    "GatewayUnavailable",
    "UpstreamRejected",
    "UpstreamUnavailable",
]
