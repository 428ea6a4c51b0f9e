"""Fault injection: 5xx, timeouts and webhook trouble on demand, for tests and the demo."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .wire import SandboxError, require_int, require_str

# Routes tote calls; a fault names one of them, or "*" for all.
ROUTES = frozenset(
    {
        "authorize",
        "void",
        "capture",
        "refund",
        "settle",
        "upi_intent",
        "upi_get",
        "upi_cancel",
        "shipment",
        "shipment_get",
        "sms",
    }
)
REQUEST_KINDS = frozenset({"http_500", "timeout_before", "timeout_after"})
WEBHOOK_KINDS = frozenset({"duplicate_webhook", "drop_webhook"})
DUPLICATE_DELIVERIES = 3


@dataclass
class Fault:
    """One armed fault: what it does, where, how many more times."""

    route: str
    kind: str
    remaining: int
    delay_ms: int = 0

    def public(self) -> dict[str, Any]:
        """The fault as JSON."""
        return asdict(self)


class FaultBook:
    """Armed faults, consumed in the order they were armed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def arm(self, body: dict[str, Any]) -> Fault:
        """Arm a fault from a request body; 400 when it names an unknown route or kind."""
        route = require_str(body, "route")
        kind = require_str(body, "kind")
        if route != "*" and route not in ROUTES:
            raise SandboxError(
                400, "invalid_request", f"unknown route {route!r}; one of {sorted(ROUTES)} or '*'"
            )
        if kind not in REQUEST_KINDS | WEBHOOK_KINDS:
            raise SandboxError(
                400,
                "invalid_request",
                f"unknown kind {kind!r}; one of {sorted(REQUEST_KINDS | WEBHOOK_KINDS)}",
            )
        count = require_int(body, "count", minimum=1) if "count" in body else 1
        delay_ms = require_int(body, "delay_ms", minimum=0) if "delay_ms" in body else 0
        if kind.startswith("timeout") and delay_ms == 0:
            raise SandboxError(400, "invalid_request", f"{kind} needs 'delay_ms' > 0")
        fault = Fault(route=route, kind=kind, remaining=count, delay_ms=delay_ms)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    def armed(self) -> list[Fault]:
        """Faults that still have uses left."""
        return [f for f in self._faults if f.remaining > 0]

    def take(self, route: str, kinds: frozenset[str]) -> Fault | None:
        """Consume one use of the first armed fault of one of kinds that applies to route."""
        for fault in self._faults:
            if fault.remaining > 0 and fault.kind in kinds and fault.route in (route, "*"):
                fault.remaining -= 1
                return fault
        return None

    def take_request_fault(self, route: str) -> Fault | None:
        """The fault (if any) that this request on route suffers."""
        return self.take(route, REQUEST_KINDS)

    def take_webhook_fault(self, route: str) -> Fault | None:
        """The fault (if any) that the webhook caused by an operation on route suffers."""
        return self.take(route, WEBHOOK_KINDS)
