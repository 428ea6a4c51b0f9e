"""What the sagas need from outside the core: the payment gateway, the carrier, the label
renderer and the command bus, as Protocols, and the errors outside parties raise.

The server's adapters (server/adapters/) and its DbExecutor satisfy these; tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.orm import Session

from core.domain.commands import Command

R = TypeVar("R")
T = TypeVar("T")
P = ParamSpec("P")


# -- what outside parties raise -------------------------------------------------------------------

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


# -- the answers the sagas read ------------------------------------------------------------------

class Authorization(Protocol):
    @property
    def status(self) -> str: ...  # "authorized" | "declined"
    @property
    def authorization_id(self) -> str | None: ...
    @property
    def decline_code(self) -> str | None: ...
    @property
    def message(self) -> str: ...


class Capture(Protocol):
    @property
    def capture_id(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...


class UpiIntent(Protocol):
    @property
    def status(self) -> str: ...  # pending | approved | declined | expired | cancelled
    @property
    def payment_id(self) -> str | None: ...
    @property
    def amount_minor(self) -> int: ...


class Booking(Protocol):
    @property
    def tracking_number(self) -> str: ...
    @property
    def carrier(self) -> str: ...
    @property
    def service(self) -> str: ...


# -- the parties ----------------------------------------------------------------------------------

class PaymentGateway(Protocol):
    """Every call carries an idempotency key made from order_id and step (the adapter's)."""

    async def authorize(self, *, order_id: str, token: str, amount_minor: int, currency: str,
                        step: str = ...) -> Authorization: ...

    async def void(self, *, order_id: str, authorization_id: str, step: str = ...) -> None: ...

    async def capture(self, *, order_id: str, authorization_id: str, amount_minor: int,
                      currency: str, step: str = ...) -> Capture: ...

    async def refund(self, *, order_id: str, capture_id: str, amount_minor: int, currency: str,
                     step: str = ...) -> object: ...

    async def create_upi_intent(self, *, order_id: str, intent_id: str, vpa: str,
                                amount_minor: int, currency: str, expires_at: int,
                                step: str = ...) -> None: ...

    async def get_upi_intent(self, intent_id: str, *, order_id: str | None = None) -> UpiIntent:
        ...

    async def cancel_upi_intent(self, *, order_id: str, intent_id: str,
                                step: str = ...) -> str: ...


class Carrier(Protocol):
    async def create_shipment(self, *, order_id: str, service: str, weight_grams: int,
                              ship_to: Mapping[str, Any], ship_from: Mapping[str, Any],
                              step: str = ...) -> Booking: ...


class Bus(Protocol):
    """The command bus: commands to the writer, queries to a reader (server/dbexec.py)."""

    async def execute(self, cmd: Command[R]) -> R: ...

    async def read(self, fn: Callable[Concatenate[Session, P], T], *args: P.args,
                   **kwargs: P.kwargs) -> T: ...
