from tote.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReceiveStockRequest(_message.Message):
    __slots__ = ("fc_id", "sku", "quantity", "bin")
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    BIN_FIELD_NUMBER: _ClassVar[int]
    fc_id: str
    sku: str
    quantity: int
    bin: str
    def __init__(self, fc_id: _Optional[str] = ..., sku: _Optional[str] = ..., quantity: _Optional[int] = ..., bin: _Optional[str] = ...) -> None: ...

class GetStockRequest(_message.Message):
    __slots__ = ("sku", "fc_id")
    SKU_FIELD_NUMBER: _ClassVar[int]
    FC_ID_FIELD_NUMBER: _ClassVar[int]
    sku: str
    fc_id: str
    def __init__(self, sku: _Optional[str] = ..., fc_id: _Optional[str] = ...) -> None: ...

class GetStockResponse(_message.Message):
    __slots__ = ("levels",)
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedCompositeFieldContainer[_common_pb2.StockLevel]
    def __init__(self, levels: _Optional[_Iterable[_Union[_common_pb2.StockLevel, _Mapping]]] = ...) -> None: ...
