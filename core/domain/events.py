"""Order events, named as in the seed document ("Inventory_Locked" on the wire)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """Every event of the order saga, with the seed's names."""

    ORDER_CREATED = "Order_Created"
    INVENTORY_LOCKED = "Inventory_Locked"
    INVENTORY_FAILURE = "Inventory_Failure"
    PAYMENT_AUTHORIZED = "Payment_Authorized"
    PAYMENT_FAILED = "Payment_Failed"
    ORDER_READY_FOR_FULFILLMENT = "Order_Ready_for_Fulfillment"
    ORDER_ASSIGNED = "Order_Assigned"
    ITEM_PICKED = "Item_Picked"
    ORDER_PACKED = "Order_Packed"
    PAYMENT_CAPTURED = "Payment_Captured"
    ORDER_SHIPPED = "Order_Shipped"
    TRACKING_UPDATED = "Tracking_Updated"
    # A tracking scan of its own: the customer is told to expect the parcel (and the cash due).
    ORDER_OUT_FOR_DELIVERY = "Order_Out_for_Delivery"
    ORDER_DELIVERED = "Order_Delivered"
    ORDER_CANCELLED = "Order_Cancelled"
    INVENTORY_RELEASED = "Inventory_Released"
    PAYMENT_VOIDED = "Payment_Voided"
    PAYMENT_REFUNDED = "Payment_Refunded"
    COD_COLLECTED = "Cod_Collected"
    COD_REMITTED = "Cod_Remitted"
    PAYMENT_SETTLED = "Payment_Settled"
