from tote.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("line_id", "order_id", "sku", "gtin", "bin", "quantity", "picked", "missing")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    GTIN_FIELD_NUMBER: _ClassVar[int]
    BIN_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PICKED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    order_id: str
    sku: str
    gtin: str
    bin: str
    quantity: int
    picked: int
    missing: int
    def __init__(self, line_id: _Optional[str] = ..., order_id: _Optional[str] = ..., sku: _Optional[str] = ..., gtin: _Optional[str] = ..., bin: _Optional[str] = ..., quantity: _Optional[int] = ..., picked: _Optional[int] = ..., missing: _Optional[int] = ...) -> None: ...

class PickTask(_message.Message):
    __slots__ = ("task_id", "fc_id", "lines")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    fc_id: str
    lines: _containers.RepeatedCompositeFieldContainer[PickLine]
    def __init__(self, task_id: _Optional[str] = ..., fc_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[PickLine, _Mapping]]] = ...) -> None: ...

class ScanItemRequest(_message.Message):
    __slots__ = ("task_id", "barcode", "scan_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    BARCODE_FIELD_NUMBER: _ClassVar[int]
    SCAN_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    barcode: str
    scan_id: str
    def __init__(self, task_id: _Optional[str] = ..., barcode: _Optional[str] = ..., scan_id: _Optional[str] = ...) -> None: ...

class ScanResult(_message.Message):
    __slots__ = ("line", "task_complete")
    LINE_FIELD_NUMBER: _ClassVar[int]
    TASK_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    line: PickLine
    task_complete: bool
    def __init__(self, line: _Optional[_Union[PickLine, _Mapping]] = ..., task_complete: _Optional[bool] = ...) -> None: ...

class ReportShortPickRequest(_message.Message):
    __slots__ = ("task_id", "line_id", "missing")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    line_id: str
    missing: int
    def __init__(self, task_id: _Optional[str] = ..., line_id: _Optional[str] = ..., missing: _Optional[int] = ...) -> None: ...

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
