from tote.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlaceOrderRequest(_message.Message):
    __slots__ = ("idempotency_key", "customer_id", "lines", "ship_to", "payment", "currency", "contact")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIP_TO_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.OrderLine]
    ship_to: _common_pb2.Address
    payment: _common_pb2.PaymentMethod
    currency: str
    contact: _common_pb2.CustomerContact
    def __init__(self, idempotency_key: _Optional[str] = ..., customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.OrderLine, _Mapping]]] = ..., ship_to: _Optional[_Union[_common_pb2.Address, _Mapping]] = ..., payment: _Optional[_Union[_common_pb2.PaymentMethod, _Mapping]] = ..., currency: _Optional[str] = ..., contact: _Optional[_Union[_common_pb2.CustomerContact, _Mapping]] = ...) -> None: ...

class QuoteOrderRequest(_message.Message):
    __slots__ = ("customer_id", "lines", "ship_to", "payment", "currency")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIP_TO_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.OrderLine]
    ship_to: _common_pb2.Address
    payment: _common_pb2.PaymentMethod
    currency: str
    def __init__(self, customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.OrderLine, _Mapping]]] = ..., ship_to: _Optional[_Union[_common_pb2.Address, _Mapping]] = ..., payment: _Optional[_Union[_common_pb2.PaymentMethod, _Mapping]] = ..., currency: _Optional[str] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("lines", "subtotal", "shipping_fee", "total", "weight_grams")
    LINES_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FEE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.OrderLine]
    subtotal: _common_pb2.Money
    shipping_fee: _common_pb2.Money
    total: _common_pb2.Money
    weight_grams: int
    def __init__(self, lines: _Optional[_Iterable[_Union[_common_pb2.OrderLine, _Mapping]]] = ..., subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., shipping_fee: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., weight_grams: _Optional[int] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("status", "fc_id", "customer_id", "page_size", "page_token")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.OrderStatus
    fc_id: str
    customer_id: str
    page_size: int
    page_token: str
    def __init__(self, status: _Optional[_Union[_common_pb2.OrderStatus, str]] = ..., fc_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_common_pb2.Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[_common_pb2.Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WatchOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class WatchOrdersRequest(_message.Message):
    __slots__ = ("fc_id", "after_event_id")
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    fc_id: str
    after_event_id: str
    def __init__(self, fc_id: _Optional[str] = ..., after_event_id: _Optional[str] = ...) -> None: ...
