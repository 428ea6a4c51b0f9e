"""The order aggregate's vocabulary: statuses, the legal transitions, payment and stock states."""

from __future__ import annotations

from enum import StrEnum

from core.domain.errors import FailedPrecondition


class OrderStatus(StrEnum):
    """Where an order is in its life (ORDER_STATUS_<name> on the wire)."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    PICKING = "PICKING"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


TERMINAL = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED})
# A customer may cancel until the parcel is packed (the payment is captured at packing).
CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.PICKING})

_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PROCESSING, OrderStatus.CANCELLED}),
    OrderStatus.PROCESSING: frozenset({OrderStatus.PICKING, OrderStatus.CANCELLED}),
    OrderStatus.PICKING: frozenset({OrderStatus.PACKED, OrderStatus.CANCELLED}),
    OrderStatus.PACKED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raise FailedPrecondition unless the state machine allows current → target."""
    if target not in _TRANSITIONS[current]:
        raise FailedPrecondition(f"an order cannot go from {current} to {target}")


class PaymentMethod(StrEnum):
    CARD = "card"
    UPI = "upi"
    COD = "cod"


class PaymentState(StrEnum):
    """The payment leg of the saga. `AUTHORIZING` is recorded before the gateway is called."""

    AUTHORIZING = "authorizing"        # card: hold requested (the outcome may still be unknown)
    INTENT_REGISTERING = "intent_registering"  # upi: intent being registered at the gateway
    INTENT_PENDING = "intent_pending"  # upi: waiting for the customer's approval
    AUTHORIZED = "authorized"          # card hold placed / upi debited
    CAPTURED = "captured"              # the final amount taken at packing
    COD_PENDING = "cod_pending"        # cash to collect at delivery
    FAILED = "failed"                  # declined, expired: nothing to compensate
    VOIDING = "voiding"                # compensation recorded, gateway call under way
    VOIDED = "voided"                  # hold released / intent cancelled
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"            # cod, or never started


class InventoryState(StrEnum):
    """The inventory leg of the saga."""

    PENDING = "pending"
    LOCKED = "locked"
    FAILED = "failed"
    RELEASED = "released"
