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
import threading
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

HEADER = struct.Struct("!Q")
# The job id of a group's report among its answers, (seconds, retries), when tote serve's
# metrics asked for it; real job ids count up from 0.
GROUP_TIMING = -1
# What pickling a value that cannot cross raises.
PICKLE_ERRORS = (pickle.PicklingError, TypeError, AttributeError)
loads = pickle.loads

# Commands and answers are mostly slotted frozen dataclasses holding enums. Pickle's default
# for a frozen slotted dataclass is its __getstate__/__setstate__, which walk dataclasses.fields()
# on every call, and an enum is rebuilt through EnumType.__call__. The wire sends a dataclass as
# (class, field values), rebuilt without __init__ (it was valid when made); a field declared as
# an enum travels as its value (a str or int pickles at C speed) and is looked up again on the
# way in. Each class's reduction is found once (`_Reductions`); other types reduce as pickle's
# default would, an enum met elsewhere as getattr(class, name).
_Fields = tuple[tuple[str, ...], tuple[int, ...]]  # field names; positions of enum fields
_REBUILDERS: dict[type, tuple[tuple[Callable[[Any, Any], None], ...],
                              tuple[tuple[int, Callable[[Any, Any], Any]], ...],
                              tuple[tuple[Callable[[Any, Any], None], Any], ...]]] = {}


def _slotted_fields(cls: type) -> _Fields | None:
    """The fields a dataclass is made from (not those it derives itself, `init=False`)."""
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        return None
    names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - an annotation only a type checker resolves: no enum fields
        hints = {}
    return names, tuple(i for i, name in enumerate(names)
                        if isinstance(hints.get(name), type) and issubclass(hints[name], enum.Enum))


def _rebuild(cls: type, values: tuple[Any, ...]) -> Any:
    found = _REBUILDERS.get(cls)
    if found is None:
        names, enums = _slotted_fields(cls) or ((), ())
        # Each slot's own descriptor: a frozen dataclass refuses setattr.
        setters = tuple(_slot(cls, n).__set__ for n in names)
        hints = typing.get_type_hints(cls) if enums else {}
        members = tuple((i, hints[names[i]]._value2member_map_.get) for i in enums)
        # A field the class derives itself (init=False) does not cross: it gets its default
        # (e.g. a record's memory of the values it was read with, which only its own
        # transaction could use).
        derived = tuple((_slot(cls, f.name).__set__, f.default) for f in dataclasses.fields(cls)
                        if not f.init and f.default is not dataclasses.MISSING)
        found = _REBUILDERS[cls] = setters, members, derived
    setters, members, derived = found
    if members:
        fields = list(values)
        for i, member in members:
            fields[i] = member(fields[i], fields[i])  # (not a value of the enum: as it came)
        values = tuple(fields)
    obj: Any = object.__new__(cls)
    for setter, value in zip(setters, values, strict=True):
        setter(obj, value)
    for setter, default in derived:
        setter(obj, default)
    return obj


def _slot(cls: type, name: str) -> Any:
    """The slot descriptor of `name` (a frozen dataclass refuses setattr)."""
    return next(k.__dict__[name] for k in cls.__mro__ if name in k.__dict__)


def _in_utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=UTC)


def _reduce_datetime(value: datetime) -> Any:
    # tote's times are aware, in UTC. Pickle's default sends the tzinfo as a timezone built
    # from a timedelta — 9 µs a datetime, most of a small answer's time; as the naive time
    # and a marker it is a tenth of that.
    if value.tzinfo is UTC:
        return _in_utc, (value.replace(tzinfo=None),)
    return value.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


def _reduction(cls: type) -> Callable[[Any], Any]:
    if cls is datetime:
        return _reduce_datetime
    if issubclass(cls, type):  # a class whose metaclass is not `type` (an enum's): by name
        return operator.attrgetter("__qualname__")
    if issubclass(cls, enum.Enum):
        return lambda member: (getattr, (cls, member._name_))
    found = _slotted_fields(cls)
    if found is None:
        default = copyreg.dispatch_table.get(cls)
        return default or operator.methodcaller("__reduce_ex__", pickle.HIGHEST_PROTOCOL)
    names, enums = found
    if len(names) == 1:
        (name,) = names
        get: Callable[[Any], tuple[Any, ...]] = lambda obj: (getattr(obj, name),)  # noqa: E731
    elif names:
        get = operator.attrgetter(*names)
    else:
        get = lambda obj: ()  # noqa: E731
    if not enums:
        return lambda obj: (_rebuild, (cls, get(obj)))

    def reduce(obj: Any) -> Any:
        fields = list(get(obj))
        for i in enums:
            if isinstance(fields[i], enum.Enum):
                fields[i] = fields[i]._value_
        return _rebuild, (cls, tuple(fields))
    return reduce


class _Reductions(dict[type, Callable[[Any], Any]]):
    def __missing__(self, cls: type) -> Callable[[Any], Any]:
        reduce = self[cls] = _reduction(cls)
        return reduce


class _WirePickler(pickle.Pickler):
    dispatch_table = _Reductions()


# One pickler per thread, kept: making one costs more than pickling a small command.
_PICKLERS = threading.local()


def dumps(message: Any) -> bytes:
    """`message` as the wire sends it (pickle's own `loads` reads it)."""
    try:
        out, pickler = _PICKLERS.kept
    except AttributeError:
        out = io.BytesIO()
        pickler = _WirePickler(out, pickle.HIGHEST_PROTOCOL)
        _PICKLERS.kept = out, pickler
    try:
        pickler.dump(message)
        return out.getvalue()
    finally:
        # Nothing of this message stays referenced, and the next starts afresh.
        pickler.clear_memo()
        out.seek(0)
        out.truncate()


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
