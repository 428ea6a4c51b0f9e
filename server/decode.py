"""Request bytes → message, or the domain error that refuses them, for every RPC alike.

grpcio parses a request before any handler runs, and a parse that raises is answered UNKNOWN
with a traceback in the log. tote's handlers get a parser that never raises: bytes that are not
the RPC's message become a `Refused` holding an InvalidArgument, which the auth wrapper answers
(server/auth.py), like any other domain error. So does a message with a string field that is
wrong (server/fields.py: over its length limit, holding NUL — PostgreSQL cannot store it, SQLite
would, and a label or a printer would cut the text there —, of a wrong format, or holding a card
number): refused here, both backends answer alike and nothing is written or logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.message import DecodeError, Message

from core.domain.errors import InvalidArgument
from server.fields import check_request


class Refused:
    """What a handler receives instead of a request it must not act on."""

    __slots__ = ("error",)

    def __init__(self, error: InvalidArgument) -> None:
        self.error = error


def input_type(method: str) -> str:
    """The full name of an RPC's request message, from its path (`/tote.v1.S/M`)."""
    full = method.lstrip("/").replace("/", ".")
    try:
        return str(descriptor_pool.Default().FindMethodByName(full).input_type.full_name)
    except KeyError:
        return "request"


def not_a_message(type_name: str, exc: DecodeError) -> InvalidArgument:
    """The error for bytes that do not parse as `type_name` (short: no bytes echoed back)."""
    # upb says "Error parsing message with type 'X': <why>"; the why is the useful part.
    why = str(exc).rpartition("': ")[2] or "not parseable"
    return InvalidArgument(f"request is not a valid {type_name} message: {why[:120]}")


def safe_parser(method: str, parse: Callable[[bytes], Any] | None
                ) -> Callable[[bytes], Any] | None:
    """`parse` (a message's FromString) made never to raise: bad requests become Refused."""
    # None means the handler takes the raw bytes and parses them itself.
    if parse is None:
        return None
    type_name = input_type(method)

    def parse_or_refuse(raw: bytes) -> Any:
        try:
            message = parse(raw)
        except DecodeError as exc:
            return Refused(not_a_message(type_name, exc))
        if isinstance(message, Message):
            error = check_request(message)
            if error is not None:
                return Refused(error)
        return message

    return parse_or_refuse

