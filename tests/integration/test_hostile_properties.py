"""Property: whatever message a client builds for whatever RPC — long strings, any Unicode,
NUL, card numbers, huge and negative numbers, NaN, unknown enum values, repeated junk — the
answer is never UNKNOWN or INTERNAL, a refused call changes nothing in the database, and no call
holding a card number is taken.

The messages are drawn by hypothesis from the tote.v1 descriptors (every unary RPC, every field
path of test_hostile_requests.py, whose fixed sweep this randomizes), from a fixed seed and a
bounded count, so every run sends the same requests. Streams are left to that fixed sweep: an
accepted stream only ends at its deadline.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor as F
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.card_spellings import REPORTED, all_pans, grouped
from tests.dbsearch import fingerprint
from tests.harness import Client, ToteServer
from tests.integration import test_hostile_requests as hostile
from tests.integration.test_hostile_requests import (
    World,
    _holder,
    baseline,
    leaf_paths,
    message_class,
    rpcs,
)
from tote.v1 import common_pb2

pytestmark = pytest.mark.slow

hostile_world = hostile.world

NEVER = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
EXAMPLES = 600
UNARY = [(path, method) for path, method in rpcs() if not method.server_streaming]
SETTLED = {s for s in common_pb2.OrderStatus.values() if s > common_pb2.ORDER_STATUS_PENDING}

INT_RANGE = {F.TYPE_INT32: (-(2**31), 2**31 - 1), F.TYPE_INT64: (-(2**63), 2**63 - 1),
             F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_UINT64: (0, 2**64 - 1)}

CARDS = [*REPORTED, *(grouped(p, s) for p in all_pans() for s in " -._")]
CARD_SET = frozenset(CARDS)
cards = st.sampled_from(CARDS)
strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    cards,
    st.builds(lambda a, b: f"{a}\x00{b}", st.text(max_size=8), st.text(max_size=8)),
    st.integers(0, 700).map(lambda n: "x" * n),
    st.sampled_from(["", " ", "x" * 100_000, "9" * 40, "٣", "💥" * 70, "' OR 1=1 --"]),
)


def value_for(field: F) -> st.SearchStrategy[Any]:
    if field.type == F.TYPE_STRING:
        return strings
    if field.type in INT_RANGE:
        low, high = INT_RANGE[field.type]
        return st.one_of(st.integers(low, high), st.sampled_from([low, high, 0, -1]))
    if field.type == F.TYPE_DOUBLE:
        return st.floats(allow_nan=True, allow_infinity=True)
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    if field.type == F.TYPE_ENUM:
        return st.integers(-3, 120)
    return st.nothing()


def apply(msg: Message, fields: tuple[F, ...], value: Any) -> None:
    holder = _holder(msg, fields)
    field = fields[-1]
    if field.type == F.TYPE_MESSAGE:
        items = getattr(holder, field.name)
        if field.is_repeated and not field.message_type.GetOptions().map_entry:
            first = items[0] if len(items) else items.add()
            for _ in range(int(value)):
                items.add().CopyFrom(first)  # nested junk: many copies
        else:
            holder.ClearField(field.name)
    elif field.is_repeated:
        getattr(holder, field.name)[:] = [value]
    else:
        setattr(holder, field.name, value)


@st.composite
def hostile_calls(draw: st.DrawFn, world: World) -> tuple[str, Message]:
    path, method = draw(st.sampled_from(UNARY))
    desc = method.input_type
    msg = message_class(desc)()
    msg.CopyFrom(baseline(desc, world))
    if "idempotency_key" in desc.fields_by_name:
        msg.idempotency_key = draw(st.uuids()).hex  # else a retry of the baseline order
    paths = [p for p in leaf_paths(desc)
             if p[-1].type == F.TYPE_MESSAGE or not value_for(p[-1]).is_empty]
    if not paths:
        return path, msg
    for fields in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3)):
        if fields[-1].type == F.TYPE_MESSAGE:
            value: Any = draw(st.integers(0, 200))
        else:
            value = draw(value_for(fields[-1]))
        apply(msg, fields, value)
    return path, msg


def strings_in(msg: Message) -> list[str]:
    out: list[str] = []
    for field, value in msg.ListFields():
        items = value if field.is_repeated else [value]
        if field.type == F.TYPE_STRING:
            out += items
        elif field.type == F.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
            for item in items:
                out += strings_in(item)
    return out


def call(admin: Client, path: str, msg: Message) -> tuple[grpc.StatusCode, str, bytes]:
    try:
        reply = admin.channel.unary_unary(path)(msg.SerializeToString(),
                                                metadata=admin.metadata, timeout=60)
        return grpc.StatusCode.OK, "", reply
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or "", b""


def settle(admin: Client, path: str, reply: bytes) -> None:
    """After an accepted order or cancellation, wait until its saga step is done: the
    background writes that follow must not land inside the next refused call's window."""
    if path.endswith(("/PlaceOrder", "/CancelOrder")):
        order = common_pb2.Order.FromString(reply)
        admin.wait_status(order.order_id, SETTLED)


def test_hostile_messages_never_answer_unknown_or_internal_and_a_refusal_changes_nothing(
        tote: ToteServer, admin: Client, hostile_world: World) -> None:
    seen: dict[str, int] = {}

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        path, msg = data.draw(hostile_calls(hostile_world))
        before = fingerprint(tote.db_url)
        code, details, reply = call(admin, path, msg)
        seen[code.name] = seen.get(code.name, 0) + 1
        assert code not in NEVER, f"{path} → {code.name}: {details[:200]}"
        held = [v for v in strings_in(msg) if v in CARD_SET]
        assert not (held and code == grpc.StatusCode.OK), f"{path} took a card number {held}"
        if code == grpc.StatusCode.OK:
            settle(admin, path, reply)
            return
        after = fingerprint(tote.db_url)
        changed = [t for t in before if before[t] != after.get(t)]
        assert changed == [], f"{path} refused ({code.name}: {details[:120]}) yet changed {changed}"

    check()
    # The messages were judged, not all refused for one reason.
    assert seen.get("OK", 0) > 5 and seen.get("INVALID_ARGUMENT", 0) > 20, seen
