"""The console's gRPC client: tote.v1 stubs with the supervisor's bearer token (blocking calls)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import grpc
from google.protobuf.message import Message

from terminals.backoff import call_with_backoff
from terminals.tls import ClientTls, channel
from tote.v1 import (
    common_pb2,
    fulfillment_pb2,
    fulfillment_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
    notifications_pb2,
    notifications_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    shipping_pb2,
    shipping_pb2_grpc,
)

CALL_TIMEOUT_S = 15.0
# ListOrders answers at most 500 a page: the console's page of history, and each page of one
# status's listing.
PAGE_SIZE = 500
# The statuses of orders still in work: the console always holds every one of them.
OPEN_STATUSES = (common_pb2.ORDER_STATUS_PENDING, common_pb2.ORDER_STATUS_PROCESSING,
                 common_pb2.ORDER_STATUS_PICKING, common_pb2.ORDER_STATUS_PACKED)
R = TypeVar("R")


@dataclass(frozen=True)
class OrderListing:
    """Orders listed, and the page token of the orders older than the history listed ("" when
    there are none)."""

    orders: list[common_pb2.Order]
    older_page_token: str


class EventStream(Protocol):
    """A server-streaming call (WatchOrders, WatchOrder): iterate it; cancel() it from any
    thread."""

    def __iter__(self) -> Iterator[common_pb2.OrderEvent]: ...

    def cancel(self) -> bool: ...


def error_message(exc: BaseException) -> str:
    """What the server said, for the status bar: 'FAILED_PRECONDITION: not enough stock'."""
    if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
        code = exc.code()
        name = code.name if code is not None else "ERROR"
        return f"{name}: {exc.details() or ''}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def is_unavailable(exc: BaseException) -> bool:
    return (isinstance(exc, grpc.RpcError) and hasattr(exc, "code")
            and exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED))


def is_denied(exc: BaseException) -> bool:
    """The token's role may not make this call (PERMISSION_DENIED)."""
    return (isinstance(exc, grpc.RpcError) and hasattr(exc, "code")
            and exc.code() == grpc.StatusCode.PERMISSION_DENIED)


class ConsoleClient:
    """One channel to `tote serve` (one address, or several replicas' separated by commas:
    terminals/channel.py); every method blocks, so only worker threads call them."""

    def __init__(self, address: str, token: str, tls: ClientTls | None = None,
                 page_size: int = PAGE_SIZE) -> None:
        self.address = address
        self.page_size = page_size
        self.channel = channel(address, tls)
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.orders = orders_pb2_grpc.OrderServiceStub(self.channel)
        self.inventory = inventory_pb2_grpc.InventoryServiceStub(self.channel)
        self.fulfillment = fulfillment_pb2_grpc.FulfillmentServiceStub(self.channel)
        self.shipping = shipping_pb2_grpc.ShippingServiceStub(self.channel)
        self.notifications = notifications_pb2_grpc.NotificationServiceStub(self.channel)
        self._lock = threading.Lock()
        self._tracking_of: dict[str, set[str]] = {}  # order_id → its parcels' tracking numbers

    def close(self) -> None:
        self.channel.close()

    def _call(self, method: Callable[..., R], request: Message) -> R:
        # A throttled call (RESOURCE_EXHAUSTED) is tried again after the server's delay, a few
        # times; then its error reaches the status bar.
        return call_with_backoff(lambda: method(request, metadata=self.metadata,
                                                timeout=CALL_TIMEOUT_S))

    def list_orders(self, fc_id: str = "") -> list[common_pb2.Order]:
        """The orders the console opens on (opening_orders), without the page token."""
        return self.opening_orders(fc_id).orders

    def opening_orders(self, fc_id: str = "") -> OrderListing:
        """Every order still in work, and the newest page of all orders (finished ones too).

        Bounded by the floor's work and one page, whatever the history's size: older orders
        come a page at a time (order_page with the listing's older_page_token).
        """
        newest = self.order_page("", fc_id)
        latest = {o.order_id: o for o in newest.orders}
        # In the flow's order: an order moving on between two listings (PENDING → PROCESSING)
        # is listed by the later one, never missed by both; listed twice, the newer one stays.
        for status in OPEN_STATUSES:
            for order in self._every(status, fc_id):
                known = latest.get(order.order_id)
                if known is None or changed_at(order) >= changed_at(known):
                    latest[order.order_id] = order
        return OrderListing(list(latest.values()), newest.older_page_token)

    def order_page(self, page_token: str = "", fc_id: str = "") -> OrderListing:
        """One page of every order, newest first, from page_token ("" for the newest page)."""
        page = self._call(self.orders.ListOrders, orders_pb2.ListOrdersRequest(
            fc_id=fc_id, page_size=self.page_size, page_token=page_token))
        return OrderListing(list(page.orders), page.next_page_token)

    def _every(self, status: common_pb2.OrderStatus, fc_id: str = ""
               ) -> Iterator[common_pb2.Order]:
        """Every order in one status, page by page: for the statuses in work only, which the
        floor's work bounds (never the finished ones, which grow with the history)."""
        token = ""
        while True:
            page = self._call(self.orders.ListOrders, orders_pb2.ListOrdersRequest(
                status=status, fc_id=fc_id, page_size=self.page_size, page_token=token))
            yield from page.orders
            token = page.next_page_token
            if not token:
                return

    def get_order(self, order_id: str) -> common_pb2.Order:
        return self._call(self.orders.GetOrder, orders_pb2.GetOrderRequest(order_id=order_id))

    def cancel_order(self, order_id: str, reason: str) -> common_pb2.Order:
        """CancelOrder: answers once the compensations (void/refund, release) have run."""
        return self._call(self.orders.CancelOrder,
                          orders_pb2.CancelOrderRequest(order_id=order_id, reason=reason))

    def watch_orders(self, fc_id: str, after_event_id: str) -> EventStream:
        """The live stream of every order's events (a grpc call: iterate it, cancel() it)."""
        return self.orders.WatchOrders(
            orders_pb2.WatchOrdersRequest(fc_id=fc_id, after_event_id=after_event_id),
            metadata=self.metadata)

    def watch_order(self, order_id: str) -> EventStream:
        """One order's events so far, then live ones (a grpc call: iterate it, cancel() it)."""
        return self.orders.WatchOrder(orders_pb2.WatchOrderRequest(order_id=order_id),
                                      metadata=self.metadata)

    def explain_routing(self, order_id: str) -> fulfillment_pb2.RoutingDecision:
        return self._call(self.fulfillment.ExplainRouting,
                          fulfillment_pb2.ExplainRoutingRequest(order_id=order_id))

    def assign_order(self, order_id: str, fc_id: str) -> common_pb2.Order:
        return self._call(self.fulfillment.AssignOrder,
                          fulfillment_pb2.AssignOrderRequest(order_id=order_id, fc_id=fc_id))

    def list_fcs(self) -> list[common_pb2.FulfillmentCenter]:
        return list(self._call(self.fulfillment.ListFulfillmentCenters,
                               fulfillment_pb2.ListFulfillmentCentersRequest()).fcs)

    def get_stock(self, sku: str = "", fc_id: str = "") -> list[common_pb2.StockLevel]:
        return list(self._call(self.inventory.GetStock,
                               inventory_pb2.GetStockRequest(sku=sku, fc_id=fc_id)).levels)

    def receive_stock(self, fc_id: str, sku: str, quantity: int, bin_code: str
                      ) -> common_pb2.StockLevel:
        return self._call(self.inventory.ReceiveStock, inventory_pb2.ReceiveStockRequest(
            fc_id=fc_id, sku=sku, quantity=quantity, bin=bin_code))

    def packed_parcel(self, tracking_number: str) -> common_pb2.Shipment | None:
        """The PACKED order's parcel with this tracking number, still packed, or None."""
        # ListOrders carries no parcels: each PACKED order is read once (GetOrder) to learn its
        # tracking numbers, which never change; the match is read again to see it is still there.
        # Only the PACKED orders are listed (the parcels waiting for a truck, bounded by the
        # floor's work), and orders no longer packed are forgotten.
        packed = [o.order_id for o in self._every(common_pb2.ORDER_STATUS_PACKED)]
        with self._lock:
            self._tracking_of = {i: self._tracking_of[i] for i in packed
                                 if i in self._tracking_of}
            unknown = [i for i in packed if i not in self._tracking_of]
        for order_id in unknown:
            numbers = {p.tracking_number for p in self.get_order(order_id).shipments}
            with self._lock:
                self._tracking_of[order_id] = numbers
        with self._lock:
            owner = next((i for i in packed if tracking_number in self._tracking_of.get(i, ())),
                         None)
        if owner is None:
            return None
        return next((p for p in self.get_order(owner).shipments
                     if p.tracking_number == tracking_number and p.status == "packed"), None)

    def get_label(self, order_id: str, fmt: common_pb2.LabelFormat) -> common_pb2.Label:
        return self._call(self.shipping.GetLabel,
                          shipping_pb2.GetLabelRequest(order_id=order_id, format=fmt))

    def send_zpl(self, order_id: str, host: str, port: int) -> str:
        """Fetch the order's ZPL label and write it raw to a thermal printer (port 9100)."""
        label = self.get_label(order_id, common_pb2.LABEL_FORMAT_ZPL)
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(label.content)
        return label.tracking_number

    def hand_off(self, carrier: str, tracking_numbers: list[str]) -> shipping_pb2.Manifest:
        return self._call(self.shipping.HandOff, shipping_pb2.HandOffRequest(
            carrier=carrier, tracking_numbers=tracking_numbers))

    def get_manifest(self, manifest_id: str) -> shipping_pb2.Manifest:
        """A manifest as stored at hand-off, its PDF included (for a reprint)."""
        return self._call(self.shipping.GetManifest,
                          shipping_pb2.GetManifestRequest(manifest_id=manifest_id))

    def get_order_document(self, order_id: str, kind: fulfillment_pb2.DocumentKind
                           ) -> fulfillment_pb2.Document:
        """The order's pick list or packing slip (DOCUMENT_KIND_*), as a PDF."""
        return self._call(self.fulfillment.GetOrderDocument,
                          fulfillment_pb2.GetOrderDocumentRequest(order_id=order_id, kind=kind))

    def get_throughput(self, fc_id: str, hours: int) -> list[fulfillment_pb2.ThroughputBucket]:
        """Orders placed/packed/shipped/delivered per hour, oldest hour first."""
        return list(self._call(self.fulfillment.GetThroughput,
                               fulfillment_pb2.GetThroughputRequest(fc_id=fc_id, hours=hours)
                               ).buckets)

    def cod_reconciliation(self, carrier: str) -> shipping_pb2.CodReconciliation:
        return self._call(self.shipping.GetCodReconciliation,
                          shipping_pb2.GetCodReconciliationRequest(carrier=carrier))

    def record_cod_remittance(self, carrier: str, reference: str, amount: common_pb2.Money,
                              tracking_numbers: list[str]) -> shipping_pb2.CodRemittance:
        return self._call(self.shipping.RecordCodRemittance,
                          shipping_pb2.RecordCodRemittanceRequest(
                              carrier=carrier, reference=reference, amount=amount,
                              tracking_numbers=tracking_numbers))

    def list_messages(self, order_id: str) -> list[notifications_pb2.NotificationMessage]:
        """What tote sent (or is sending) the customer about one order, oldest first."""
        return list(self._call(self.notifications.ListMessages,
                               notifications_pb2.ListMessagesRequest(order_id=order_id)
                               ).messages)

    def list_dead_letters(self, page_size: int = 0
                          ) -> list[notifications_pb2.NotificationMessage]:
        """Messages that failed every attempt, newest first (the server's cap: 200)."""
        return list(self._call(self.notifications.ListDeadLetters,
                               notifications_pb2.ListDeadLettersRequest(page_size=page_size)
                               ).messages)

    def resend(self, message_id: str) -> notifications_pb2.NotificationMessage:
        """A dead letter queued again now (refused for any message that is not dead)."""
        return self._call(self.notifications.Resend,
                          notifications_pb2.ResendRequest(message_id=message_id))


def changed_at(order: common_pb2.Order) -> tuple[int, int]:
    """When the order last changed: of two copies of one order, the later is the newer."""
    return order.updated_at.seconds, order.updated_at.nanos


def iterate(call: EventStream) -> Iterator[common_pb2.OrderEvent]:
    """Iterate a stream; a cancel() from another thread ends it quietly."""
    try:
        yield from call
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.CANCELLED:
            raise
