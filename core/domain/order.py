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


def may_become(target: OrderStatus) -> frozenset[OrderStatus]:
    """The statuses from which an order may go to `target` (for a compare-and-set in SQL)."""
    return frozenset(s for s, targets in _TRANSITIONS.items() if target in targets)


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


# Payment states in which the gateway holds none of the customer's money for the order.
_NOTHING_TAKEN = frozenset({"authorizing", "intent_registering", "intent_pending", "failed",
                            "voided", "cod_pending", "cancelled"})
# States after the final capture (card) or the debit less any refund (UPI) was recorded.
_TAKEN = frozenset({"capturing", "captured", "settled"})


def payment_amounts_disagree(method: str, state: str, authorized: int, captured: int,
                             refunded: int) -> str | None:
    """Why an order's payment amounts cannot be those of its payment state, or None.

    The amounts record money as the gateway moved it: a card hold is authorized, not captured,
    until packing; an approved UPI intent is a debit, captured at once; a refund gives back
    some or all of what was captured. Cash on delivery moves no money through the gateway
    (the parcels record what was collected).
    """
    if captured > authorized:
        return "captured exceeds authorized"
    if refunded > captured:
        return "refunded exceeds captured"
    if method == PaymentMethod.COD:
        return "cash on delivery shows gateway money" if captured or refunded else None
    if state in _NOTHING_TAKEN and (captured or refunded):
        return f"payment is {state} yet money was taken"
    if state == PaymentState.AUTHORIZED:
        if method == PaymentMethod.UPI and captured != authorized:
            return "an approved UPI payment is a debit: captured must equal authorized"
        if method == PaymentMethod.CARD and captured:
            return "a card hold is not captured before packing"
        if refunded:
            return "payment is authorized yet a refund was recorded"
    if state in _TAKEN and (captured == 0 or refunded >= captured):
        return f"payment is {state} but nothing is kept of it"
    if state == PaymentState.REFUNDED and not 0 < refunded == captured:
        return "payment is refunded: refunded must equal captured, and be more than zero"
    return None
