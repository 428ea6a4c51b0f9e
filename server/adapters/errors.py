"""What the gateway and carrier adapters raise."""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every error an outside-party adapter raises."""


class UpstreamUnavailable(AdapterError):
    """Retries exhausted on 5xx, timeouts or connection errors: the outcome is unknown.

    The caller keeps its "in progress" state and retries later with the same idempotency key;
    it must never guess that the operation did or did not happen.
    """

    def __init__(self, message: str, *, order_id: str | None, step: str) -> None:
        super().__init__(message)
        self.order_id = order_id
        self.step = step


class UpstreamRejected(AdapterError):
    """A definite refusal (a 4xx other than a card decline): retrying the same call won't help."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class GatewayUnavailable(UpstreamUnavailable):
    """The payment gateway could not be reached or kept failing; outcome unknown."""


class GatewayRejected(UpstreamRejected):
    """The payment gateway refused the request (e.g. 409 invalid transition, 400 bad token)."""


class CarrierUnavailable(UpstreamUnavailable):
    """The carrier could not be reached or kept failing; outcome unknown."""


class CarrierRejected(UpstreamRejected):
    """The carrier refused the request."""
