"""What an order will be charged now, read from its lines and its parcels (no gRPC here).

Order.total is what was placed (and authorized). A short pick that finds a unit in no FC's
stock cancels that unit: it leaves every parcel, and the customer is charged only for what
ships — the units still in the parcels at their line prices, plus the shipping fee once.
"""

from __future__ import annotations

from collections import Counter

from desktop.models import money
from tote.v1 import common_pb2


def units_not_shipping(order: common_pb2.Order) -> Counter[str]:
    """SKU → units ordered that no live parcel carries any more (cancelled by short picks)."""
    parcels = [s for s in order.shipments if s.status != "cancelled"]
    if not parcels or order.status == common_pb2.ORDER_STATUS_CANCELLED:
        # Not routed yet (or a ListOrders row, which carries no parcels), or nothing ships.
        return Counter()
    ordered = Counter[str]()
    for line in order.lines:
        ordered[line.sku] += line.quantity
    shipping = Counter[str]()
    for parcel in parcels:
        for line in parcel.lines:
            shipping[line.sku] += line.quantity
    return +(ordered - shipping)


def amount_due(order: common_pb2.Order) -> common_pb2.Money:
    """The amount to charge now: the placed total, less the units that no longer ship."""
    gone = units_not_shipping(order)
    if not gone:
        return order.total
    price = {line.sku: line.unit_price.amount_minor for line in order.lines}
    less = sum(price.get(sku, 0) * units for sku, units in gone.items())
    return common_pb2.Money(amount_minor=order.total.amount_minor - less,
                            currency=order.total.currency)


def lines_shipping(order: common_pb2.Order) -> str:
    """The order's lines as they ship: '1× MUG (1 out of stock, not charged), 2× TEA'."""
    gone = units_not_shipping(order)
    left = Counter(gone)  # two lines of one SKU: the units gone are taken from the first
    parts = []
    for line in order.lines:
        short = min(left[line.sku], line.quantity)
        left[line.sku] -= short
        parts.append(f"{line.quantity - short}× {line.sku}"
                     + (f" ({short} out of stock, not charged)" if short else ""))
    return ", ".join(parts)


def total_text(order: common_pb2.Order) -> str:
    """'₹1,058.00', or after a short pick '₹559.00 to charge (placed ₹1,058.00)'."""
    if not units_not_shipping(order):
        return money(order.total)
    return f"{money(amount_due(order))} to charge (placed {money(order.total)})"
