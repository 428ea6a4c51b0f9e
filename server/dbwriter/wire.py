"""How commands and answers cross between tote serve and its SQLite writer process.

The one place that pickles them: each message is a pickle with its length in front (`frame`,
`unframe`), made by a pickler of the wire's own (`dumps`).
"""

from __future__ import annotations

import copyreg
import dataclasses
import enum
import io
import operator
import pickle
import struct
from collections.abc import Callable, Iterator
from typing import Any

HEADER = struct.Struct("!Q")
# What pickling a value that cannot cross raises.
PICKLE_ERRORS = (pickle.PicklingError, TypeError, AttributeError)
loads = pickle.loads

# Commands and answers are mostly slotted frozen dataclasses holding enums. Pickle's default
# for a frozen slotted dataclass is its __getstate__/__setstate__, which walk dataclasses.fields()
# on every call, and an enum is rebuilt through EnumType.__call__: the wire sends a dataclass as
# (class, field values), rebuilt without __init__ (it was valid when made), and an enum as
# getattr(class, name). Each class's reduction is found once (`_Reductions`); every other type
# reduces as pickle's default would.
_SETTERS: dict[type, tuple[Callable[[Any, Any], None], ...]] = {}


def _slotted_fields(cls: type) -> tuple[str, ...] | None:
    if dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__:
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


def _rebuild(cls: type, values: tuple[Any, ...]) -> Any:
    setters = _SETTERS.get(cls)
    if setters is None:
        # Each slot's own descriptor: a frozen dataclass refuses setattr.
        setters = _SETTERS[cls] = tuple(
            next(k.__dict__[n] for k in cls.__mro__ if n in k.__dict__).__set__
            for n in _slotted_fields(cls) or ())
    obj: Any = object.__new__(cls)
    for setter, value in zip(setters, values, strict=True):
        setter(obj, value)
    return obj


def _reduction(cls: type) -> Callable[[Any], Any]:
    if issubclass(cls, type):  # a class whose metaclass is not `type` (an enum's): by name
        return operator.attrgetter("__qualname__")
    if issubclass(cls, enum.Enum):
        return lambda member: (getattr, (cls, member._name_))
    names = _slotted_fields(cls)
    if names is None:
        default = copyreg.dispatch_table.get(cls)
        return default or operator.methodcaller("__reduce_ex__", pickle.HIGHEST_PROTOCOL)
    if len(names) == 1:
        (name,) = names
        return lambda obj: (_rebuild, (cls, (getattr(obj, name),)))
    values = operator.attrgetter(*names) if names else (lambda obj: ())
    return lambda obj: (_rebuild, (cls, values(obj)))


class _Reductions(dict[type, Callable[[Any], Any]]):
    def __missing__(self, cls: type) -> Callable[[Any], Any]:
        reduce = self[cls] = _reduction(cls)
        return reduce


class _WirePickler(pickle.Pickler):
    dispatch_table = _Reductions()


def dumps(message: Any) -> bytes:
    """`message` as the wire sends it (pickle's own `loads` reads it)."""
    out = io.BytesIO()
    _WirePickler(out, pickle.HIGHEST_PROTOCOL).dump(message)
    return out.getvalue()


def frame(message: Any) -> bytes:
    """`message` with its length in front, as the sockets carry it."""
    payload = dumps(message)
    return HEADER.pack(len(payload)) + payload


def unframe(buffer: bytearray) -> Iterator[Any]:
    """The whole messages at the front of `buffer`, each taken out as it is read (the start
    of one still arriving stays)."""
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        end = HEADER.size + size
        if len(buffer) < end:
            return
        message = pickle.loads(memoryview(buffer)[HEADER.size:end])
        del buffer[:end]
        yield message
