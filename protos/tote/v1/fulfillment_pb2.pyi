import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tote.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DocumentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_KIND_UNSPECIFIED: _ClassVar[DocumentKind]
    DOCUMENT_KIND_PICK_LIST: _ClassVar[DocumentKind]
    DOCUMENT_KIND_PACKING_SLIP: _ClassVar[DocumentKind]
DOCUMENT_KIND_UNSPECIFIED: DocumentKind
DOCUMENT_KIND_PICK_LIST: DocumentKind
DOCUMENT_KIND_PACKING_SLIP: DocumentKind

class UpsertFulfillmentCenterRequest(_message.Message):
    __slots__ = ("fc",)
    FC_FIELD_NUMBER: _ClassVar[int]
    fc: _common_pb2.FulfillmentCenter
    def __init__(self, fc: _Optional[_Union[_common_pb2.FulfillmentCenter, _Mapping]] = ...) -> None: ...

class ListFulfillmentCentersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFulfillmentCentersResponse(_message.Message):
    __slots__ = ("fcs",)
    FCS_FIELD_NUMBER: _ClassVar[int]
    fcs: _containers.RepeatedCompositeFieldContainer[_common_pb2.FulfillmentCenter]
    def __init__(self, fcs: _Optional[_Iterable[_Union[_common_pb2.FulfillmentCenter, _Mapping]]] = ...) -> None: ...

class ExplainRoutingRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class RoutingCandidate(_message.Message):
    __slots__ = ("fc_id", "score", "factors", "reason")
    class FactorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    fc_id: str
    score: float
    factors: _containers.ScalarMap[str, float]
    reason: str
    def __init__(self, fc_id: _Optional[str] = ..., score: _Optional[float] = ..., factors: _Optional[_Mapping[str, float]] = ..., reason: _Optional[str] = ...) -> None: ...

class RoutingDecision(_message.Message):
    __slots__ = ("chosen_fc_id", "candidates")
    CHOSEN_FC_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    chosen_fc_id: str
    candidates: _containers.RepeatedCompositeFieldContainer[RoutingCandidate]
    def __init__(self, chosen_fc_id: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[RoutingCandidate, _Mapping]]] = ...) -> None: ...

class AssignOrderRequest(_message.Message):
    __slots__ = ("order_id", "fc_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    fc_id: str
    def __init__(self, order_id: _Optional[str] = ..., fc_id: _Optional[str] = ...) -> None: ...

class NextPickTaskRequest(_message.Message):
    __slots__ = ("fc_id",)
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    fc_id: str
    def __init__(self, fc_id: _Optional[str] = ...) -> None: ...

class PickLine(_message.Message):
    __slots__ = ("line_id", "order_id", "sku", "gtin", "bin", "quantity", "picked", "missing", "name")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    GTIN_FIELD_NUMBER: _ClassVar[int]
    BIN_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PICKED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    order_id: str
    sku: str
    gtin: str
    bin: str
    quantity: int
    picked: int
    missing: int
    name: str
    def __init__(self, line_id: _Optional[str] = ..., order_id: _Optional[str] = ..., sku: _Optional[str] = ..., gtin: _Optional[str] = ..., bin: _Optional[str] = ..., quantity: _Optional[int] = ..., picked: _Optional[int] = ..., missing: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class PickTask(_message.Message):
    __slots__ = ("task_id", "fc_id", "lines", "confirm_bin_scan", "tote_code")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_BIN_SCAN_FIELD_NUMBER: _ClassVar[int]
    TOTE_CODE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    fc_id: str
    lines: _containers.RepeatedCompositeFieldContainer[PickLine]
    confirm_bin_scan: bool
    tote_code: str
    def __init__(self, task_id: _Optional[str] = ..., fc_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[PickLine, _Mapping]]] = ..., confirm_bin_scan: _Optional[bool] = ..., tote_code: _Optional[str] = ...) -> None: ...

class ScanItemRequest(_message.Message):
    __slots__ = ("task_id", "barcode", "scan_id", "operator_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    SCAN_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    barcode: str
    scan_id: str
    operator_id: str
    def __init__(self, task_id: _Optional[str] = ..., barcode: _Optional[str] = ..., scan_id: _Optional[str] = ..., operator_id: _Optional[str] = ...) -> None: ...

class ScanResult(_message.Message):
    __slots__ = ("line", "task_complete")
    LINE_FIELD_NUMBER: _ClassVar[int]
    TASK_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    line: PickLine
    task_complete: bool
    def __init__(self, line: _Optional[_Union[PickLine, _Mapping]] = ..., task_complete: _Optional[bool] = ...) -> None: ...

class ReportShortPickRequest(_message.Message):
    __slots__ = ("task_id", "line_id", "missing", "operator_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    line_id: str
    missing: int
    operator_id: str
    def __init__(self, task_id: _Optional[str] = ..., line_id: _Optional[str] = ..., missing: _Optional[int] = ..., operator_id: _Optional[str] = ...) -> None: ...

class ReportShortPickResponse(_message.Message):
    __slots__ = ("line", "task_complete")
    LINE_FIELD_NUMBER: _ClassVar[int]
    TASK_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    line: PickLine
    task_complete: bool
    def __init__(self, line: _Optional[_Union[PickLine, _Mapping]] = ..., task_complete: _Optional[bool] = ...) -> None: ...

class PackOrderRequest(_message.Message):
    __slots__ = ("order_id", "weight_grams", "box", "shipment_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    weight_grams: int
    box: str
    shipment_id: str
    def __init__(self, order_id: _Optional[str] = ..., weight_grams: _Optional[int] = ..., box: _Optional[str] = ..., shipment_id: _Optional[str] = ...) -> None: ...

class PackResult(_message.Message):
    __slots__ = ("order", "label")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    order: _common_pb2.Order
    label: _common_pb2.Label
    def __init__(self, order: _Optional[_Union[_common_pb2.Order, _Mapping]] = ..., label: _Optional[_Union[_common_pb2.Label, _Mapping]] = ...) -> None: ...

class GetPackListRequest(_message.Message):
    __slots__ = ("task_id", "order_id", "shipment_id", "tote_code")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOTE_CODE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    order_id: str
    shipment_id: str
    tote_code: str
    def __init__(self, task_id: _Optional[str] = ..., order_id: _Optional[str] = ..., shipment_id: _Optional[str] = ..., tote_code: _Optional[str] = ...) -> None: ...

class PackList(_message.Message):
    __slots__ = ("order_id", "shipment_id", "fc_id", "status", "lines", "expected_weight_grams")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_WEIGHT_GRAMS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    shipment_id: str
    fc_id: str
    status: str
    lines: _containers.RepeatedCompositeFieldContainer[PickLine]
    expected_weight_grams: int
    def __init__(self, order_id: _Optional[str] = ..., shipment_id: _Optional[str] = ..., fc_id: _Optional[str] = ..., status: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[PickLine, _Mapping]]] = ..., expected_weight_grams: _Optional[int] = ...) -> None: ...

class GetPackListResponse(_message.Message):
    __slots__ = ("pack_lists",)
    PACK_LISTS_FIELD_NUMBER: _ClassVar[int]
    pack_lists: _containers.RepeatedCompositeFieldContainer[PackList]
    def __init__(self, pack_lists: _Optional[_Iterable[_Union[PackList, _Mapping]]] = ...) -> None: ...

class GetOrderDocumentRequest(_message.Message):
    __slots__ = ("order_id", "kind", "shipment_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SHIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    kind: DocumentKind
    shipment_id: str
    def __init__(self, order_id: _Optional[str] = ..., kind: _Optional[_Union[DocumentKind, str]] = ..., shipment_id: _Optional[str] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("filename", "content_type", "content")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    content: bytes
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class GetThroughputRequest(_message.Message):
    __slots__ = ("fc_id", "hours")
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    fc_id: str
    hours: int
    def __init__(self, fc_id: _Optional[str] = ..., hours: _Optional[int] = ...) -> None: ...

class ThroughputBucket(_message.Message):
    __slots__ = ("hour_start", "placed", "packed", "shipped", "delivered", "cancelled")
    HOUR_START_FIELD_NUMBER: _ClassVar[int]
    PLACED_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    SHIPPED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    hour_start: _timestamp_pb2.Timestamp
    placed: int
    packed: int
    shipped: int
    delivered: int
    cancelled: int
    def __init__(self, hour_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., placed: _Optional[int] = ..., packed: _Optional[int] = ..., shipped: _Optional[int] = ..., delivered: _Optional[int] = ..., cancelled: _Optional[int] = ...) -> None: ...

class GetThroughputResponse(_message.Message):
    __slots__ = ("buckets",)
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[ThroughputBucket]
    def __init__(self, buckets: _Optional[_Iterable[_Union[ThroughputBucket, _Mapping]]] = ...) -> None: ...
