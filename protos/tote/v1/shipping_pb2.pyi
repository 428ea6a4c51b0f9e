import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tote.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetLabelRequest(_message.Message):
    __slots__ = ("order_id", "format")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    format: _common_pb2.LabelFormat
    def __init__(self, order_id: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.LabelFormat, str]] = ...) -> None: ...

class HandOffRequest(_message.Message):
    __slots__ = ("carrier", "tracking_numbers")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    carrier: str
    tracking_numbers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, carrier: _Optional[str] = ..., tracking_numbers: _Optional[_Iterable[str]] = ...) -> None: ...

class Manifest(_message.Message):
    __slots__ = ("manifest_id", "carrier", "tracking_numbers", "pdf", "created_at")
    MANIFEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    PDF_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    manifest_id: str
    carrier: str
    tracking_numbers: _containers.RepeatedScalarFieldContainer[str]
    pdf: bytes
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, manifest_id: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_numbers: _Optional[_Iterable[str]] = ..., pdf: _Optional[bytes] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetManifestRequest(_message.Message):
    __slots__ = ("manifest_id",)
    MANIFEST_ID_FIELD_NUMBER: _ClassVar[int]
    manifest_id: str
    def __init__(self, manifest_id: _Optional[str] = ...) -> None: ...

class RecordTrackingEventRequest(_message.Message):
    __slots__ = ("tracking_number", "status", "location", "cod_collected")
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    COD_COLLECTED_FIELD_NUMBER: _ClassVar[int]
    tracking_number: str
    status: str
    location: str
    cod_collected: _common_pb2.Money
    def __init__(self, tracking_number: _Optional[str] = ..., status: _Optional[str] = ..., location: _Optional[str] = ..., cod_collected: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class RecordTrackingEventResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _common_pb2.Order
    def __init__(self, order: _Optional[_Union[_common_pb2.Order, _Mapping]] = ...) -> None: ...

class RecordCodRemittanceRequest(_message.Message):
    __slots__ = ("carrier", "reference", "amount", "tracking_numbers")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    carrier: str
    reference: str
    amount: _common_pb2.Money
    tracking_numbers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, carrier: _Optional[str] = ..., reference: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tracking_numbers: _Optional[_Iterable[str]] = ...) -> None: ...

class CodRemittance(_message.Message):
    __slots__ = ("remittance_id", "carrier", "reference", "amount", "tracking_numbers")
    REMITTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    remittance_id: str
    carrier: str
    reference: str
    amount: _common_pb2.Money
    tracking_numbers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, remittance_id: _Optional[str] = ..., carrier: _Optional[str] = ..., reference: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tracking_numbers: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCodReconciliationRequest(_message.Message):
    __slots__ = ("carrier",)
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    carrier: str
    def __init__(self, carrier: _Optional[str] = ...) -> None: ...

class CodDiscrepancy(_message.Message):
    __slots__ = ("tracking_number", "kind", "expected", "actual", "detail")
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    tracking_number: str
    kind: str
    expected: _common_pb2.Money
    actual: _common_pb2.Money
    detail: str
    def __init__(self, tracking_number: _Optional[str] = ..., kind: _Optional[str] = ..., expected: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., actual: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., detail: _Optional[str] = ...) -> None: ...

class CodReconciliation(_message.Message):
    __slots__ = ("expected", "collected", "remitted", "discrepancies")
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_FIELD_NUMBER: _ClassVar[int]
    REMITTED_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCIES_FIELD_NUMBER: _ClassVar[int]
    expected: _common_pb2.Money
    collected: _common_pb2.Money
    remitted: _common_pb2.Money
    discrepancies: _containers.RepeatedCompositeFieldContainer[CodDiscrepancy]
    def __init__(self, expected: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., collected: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., remitted: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discrepancies: _Optional[_Iterable[_Union[CodDiscrepancy, _Mapping]]] = ...) -> None: ...
