import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING: _ClassVar[OrderStatus]
    ORDER_STATUS_PROCESSING: _ClassVar[OrderStatus]
    ORDER_STATUS_PICKING: _ClassVar[OrderStatus]
    ORDER_STATUS_PACKED: _ClassVar[OrderStatus]
    ORDER_STATUS_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_DELIVERED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]

class LabelFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LABEL_FORMAT_UNSPECIFIED: _ClassVar[LabelFormat]
    LABEL_FORMAT_PDF: _ClassVar[LabelFormat]
    LABEL_FORMAT_ZPL: _ClassVar[LabelFormat]
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING: OrderStatus
ORDER_STATUS_PROCESSING: OrderStatus
ORDER_STATUS_PICKING: OrderStatus
ORDER_STATUS_PACKED: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_DELIVERED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
LABEL_FORMAT_UNSPECIFIED: LabelFormat
LABEL_FORMAT_PDF: LabelFormat
LABEL_FORMAT_ZPL: LabelFormat

class Money(_message.Message):
    __slots__ = ("amount_minor", "currency")
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount_minor: int
    currency: str
    def __init__(self, amount_minor: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "latitude", "longitude")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LINE1_FIELD_NUMBER: _ClassVar[int]
    LINE2_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    name: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str
    phone: str
    latitude: float
    longitude: float
    def __init__(self, name: _Optional[str] = ..., line1: _Optional[str] = ..., line2: _Optional[str] = ..., city: _Optional[str] = ..., region: _Optional[str] = ..., postal_code: _Optional[str] = ..., country: _Optional[str] = ..., phone: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price: Money
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[Money, _Mapping]] = ...) -> None: ...

class CardPayment(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class UpiPayment(_message.Message):
    __slots__ = ("vpa",)
    VPA_FIELD_NUMBER: _ClassVar[int]
    vpa: str
    def __init__(self, vpa: _Optional[str] = ...) -> None: ...

class CashOnDelivery(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ("card", "upi", "cod")
    CARD_FIELD_NUMBER: _ClassVar[int]
    UPI_FIELD_NUMBER: _ClassVar[int]
    COD_FIELD_NUMBER: _ClassVar[int]
    card: CardPayment
    upi: UpiPayment
    cod: CashOnDelivery
    def __init__(self, card: _Optional[_Union[CardPayment, _Mapping]] = ..., upi: _Optional[_Union[UpiPayment, _Mapping]] = ..., cod: _Optional[_Union[CashOnDelivery, _Mapping]] = ...) -> None: ...

class PaymentInfo(_message.Message):
    __slots__ = ("method", "state", "upi_intent_id", "upi_intent_uri", "authorized", "captured", "upi_expires_at", "failure_reason", "refunded")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPI_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    UPI_INTENT_URI_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZED_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_FIELD_NUMBER: _ClassVar[int]
    UPI_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    method: str
    state: str
    upi_intent_id: str
    upi_intent_uri: str
    authorized: Money
    captured: Money
    upi_expires_at: _timestamp_pb2.Timestamp
    failure_reason: str
    refunded: Money
    def __init__(self, method: _Optional[str] = ..., state: _Optional[str] = ..., upi_intent_id: _Optional[str] = ..., upi_intent_uri: _Optional[str] = ..., authorized: _Optional[_Union[Money, _Mapping]] = ..., captured: _Optional[_Union[Money, _Mapping]] = ..., upi_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[str] = ..., refunded: _Optional[_Union[Money, _Mapping]] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("shipment_id", "fc_id", "status", "carrier", "tracking_number", "lines")
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    shipment_id: str
    fc_id: str
    status: str
    carrier: str
    tracking_number: str
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    def __init__(self, shipment_id: _Optional[str] = ..., fc_id: _Optional[str] = ..., status: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "customer_id", "status", "lines", "ship_to", "total", "payment", "fc_id", "carrier", "tracking_number", "cancel_reason", "created_at", "shipments", "shipping_fee", "updated_at", "idempotency_key", "contact")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIP_TO_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FEE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    status: OrderStatus
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    ship_to: Address
    total: Money
    payment: PaymentInfo
    fc_id: str
    carrier: str
    tracking_number: str
    cancel_reason: str
    created_at: _timestamp_pb2.Timestamp
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    shipping_fee: Money
    updated_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    contact: CustomerContact
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., ship_to: _Optional[_Union[Address, _Mapping]] = ..., total: _Optional[_Union[Money, _Mapping]] = ..., payment: _Optional[_Union[PaymentInfo, _Mapping]] = ..., fc_id: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., cancel_reason: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ..., shipping_fee: _Optional[_Union[Money, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., contact: _Optional[_Union[CustomerContact, _Mapping]] = ...) -> None: ...

class CustomerContact(_message.Message):
    __slots__ = ("email", "phone", "locale")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    email: str
    phone: str
    locale: str
    def __init__(self, email: _Optional[str] = ..., phone: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...

class OrderEvent(_message.Message):
    __slots__ = ("event_id", "order_id", "type", "status", "occurred_at", "detail")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    order_id: str
    type: str
    status: OrderStatus
    occurred_at: _timestamp_pb2.Timestamp
    detail: str
    def __init__(self, event_id: _Optional[str] = ..., order_id: _Optional[str] = ..., type: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detail: _Optional[str] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("sku", "name", "gtin", "unit_price", "weight_grams")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GTIN_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    name: str
    gtin: str
    unit_price: Money
    weight_grams: int
    def __init__(self, sku: _Optional[str] = ..., name: _Optional[str] = ..., gtin: _Optional[str] = ..., unit_price: _Optional[_Union[Money, _Mapping]] = ..., weight_grams: _Optional[int] = ...) -> None: ...

class StockLevel(_message.Message):
    __slots__ = ("fc_id", "sku", "on_hand", "soft_locked", "hard_locked", "available", "bin")
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    SOFT_LOCKED_FIELD_NUMBER: _ClassVar[int]
    HARD_LOCKED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    BIN_FIELD_NUMBER: _ClassVar[int]
    fc_id: str
    sku: str
    on_hand: int
    soft_locked: int
    hard_locked: int
    available: int
    bin: str
    def __init__(self, fc_id: _Optional[str] = ..., sku: _Optional[str] = ..., on_hand: _Optional[int] = ..., soft_locked: _Optional[int] = ..., hard_locked: _Optional[int] = ..., available: _Optional[int] = ..., bin: _Optional[str] = ...) -> None: ...

class FulfillmentCenter(_message.Message):
    __slots__ = ("fc_id", "name", "latitude", "longitude", "cutoff_hour", "daily_capacity", "address", "confirm_bin_scan")
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_HOUR_FIELD_NUMBER: _ClassVar[int]
    DAILY_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_BIN_SCAN_FIELD_NUMBER: _ClassVar[int]
    fc_id: str
    name: str
    latitude: float
    longitude: float
    cutoff_hour: int
    daily_capacity: int
    address: Address
    confirm_bin_scan: bool
    def __init__(self, fc_id: _Optional[str] = ..., name: _Optional[str] = ..., latitude: _Optional[float] = ..., longitude: _Optional[float] = ..., cutoff_hour: _Optional[int] = ..., daily_capacity: _Optional[int] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., confirm_bin_scan: _Optional[bool] = ...) -> None: ...

class Label(_message.Message):
    __slots__ = ("tracking_number", "format", "content")
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    tracking_number: str
    format: LabelFormat
    content: bytes
    def __init__(self, tracking_number: _Optional[str] = ..., format: _Optional[_Union[LabelFormat, str]] = ..., content: _Optional[bytes] = ...) -> None: ...
