"""Every RPC of every tote.v1 service, fed what a client can send: bytes that are not a message,
and messages full of edge values. Nothing may answer UNKNOWN or INTERNAL, and the server log
may hold no traceback.

The RPCs are read from the generated descriptors, so a new RPC or field is swept without a
change here. Values are fixed lists and seeded random bytes: the same requests every run.
"""

from __future__ import annotations

import importlib
import itertools
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor, message_factory
from google.protobuf.descriptor import FieldDescriptor as F
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health_pb2

from tests.harness import Client, ToteServer, address, cod, place_request, unique
from tote.v1 import common_pb2, fulfillment_pb2, orders_pb2

pytestmark = pytest.mark.slow

PROTOS = Path(__file__).resolve().parents[2] / "protos" / "tote" / "v1"
NEVER = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
# A stream that is still open when this deadline passes accepted its request: that is an
# answer too. The deadline only bounds how long the sweep waits on live streams.
STREAM_DEADLINE_S = 4.0
TRACEBACK = "Traceback (most recent call last)"
NOT_A_MESSAGE = re.compile(r"^request is not a valid [\w.]+ message")


def rpcs() -> list[tuple[str, descriptor.MethodDescriptor]]:
    """(path, method) of every RPC in protos/tote/v1, and of the health service, in a fixed
    order."""
    out = []
    modules = [importlib.import_module(f"tote.v1.{path.stem}")
               for path in sorted(PROTOS.glob("*_pb2.py"))]
    for module in [*modules, health_pb2]:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                out.append((f"/{service.full_name}/{method.name}", method))
    return out


def message_class(desc: descriptor.Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(desc)


@dataclass
class Answer:
    path: str
    case: str
    code: grpc.StatusCode
    details: str


class Caller:
    """Sends raw request bytes to any RPC by its path; streams are all sent, then awaited."""

    def __init__(self, client: Client) -> None:
        self.channel = client.channel
        self.metadata = client.metadata
        self.pending: list[tuple[str, str, grpc.Call]] = []
        self.answers: list[Answer] = []

    def send(self, path: str, method: descriptor.MethodDescriptor, body: bytes,
             case: str) -> None:
        if method.server_streaming:
            call = self.channel.unary_stream(path)(body, metadata=self.metadata,
                                                   timeout=STREAM_DEADLINE_S)
            self.pending.append((path, case, call))
            return
        try:
            self.channel.unary_unary(path)(body, metadata=self.metadata, timeout=120)
            self.answers.append(Answer(path, case, grpc.StatusCode.OK, ""))
        except grpc.RpcError as exc:
            self.answers.append(Answer(path, case, exc.code(), exc.details() or ""))

    def finish(self) -> list[Answer]:
        for path, case, call in self.pending:
            # A stream's status arrives when it ends: at once when refused, at the deadline
            # when it was accepted and is waiting for events.
            self.answers.append(Answer(path, case, call.code(), call.details() or ""))
        self.pending = []
        return self.answers


def bad(answers: list[Answer]) -> list[str]:
    return [f"{a.path} [{a.case}] → {a.code.name}: {a.details[:160]}"
            for a in answers if a.code in NEVER]


def tracebacks(tote: ToteServer) -> int:
    return tote.log_path.read_text(errors="replace").count(TRACEBACK)


# -- the world the requests refer to ------------------------------------------------------------

@dataclass
class World:
    """Things of every kind for requests to name: a packed order (with its tracking number),
    an order being picked (with its open task) and one to cancel."""

    sku: str
    gtin: str
    packed_id: str
    tracking_number: str
    carrier: str
    order_id: str
    shipment_id: str
    task_id: str
    line_id: str
    cancel_id: str

    def plausible(self) -> dict[str, object]:
        """A good value per field name, so that one bad field is what a request gets judged on."""
        return {"sku": self.sku, "gtin": self.gtin, "barcode": self.gtin,
                "order_id": self.order_id, "shipment_id": self.shipment_id,
                "task_id": self.task_id, "line_id": self.line_id, "fc_id": "FC-BLR",
                "currency": "INR", "name": "Edge", "box": "M", "bin": "A-01-1",
                "operator_id": "op-1", "scan_id": "scan-1", "reason": "hostile sweep",
                "customer_id": "cust-1", "carrier": self.carrier,
                "tracking_number": self.tracking_number, "tracking_numbers": self.tracking_number,
                "status": "IN_TRANSIT", "location": "Bengaluru hub", "reference": "REM-1",
                "quantity": 1, "weight_grams": 600, "page_size": 10, "hours": 24, "missing": 1,
                "amount_minor": 100, "latitude": 12.97, "longitude": 77.59,
                "cutoff_hour": 16, "daily_capacity": 1000}

    def other_ids(self) -> list[str]:
        """Ids of every kind, to be sent where another kind is expected."""
        return [self.sku, self.order_id, self.shipment_id, self.task_id, self.line_id,
                self.tracking_number, "FC-BLR"]


def _processing(admin: Client, sku: str) -> common_pb2.Order:
    order = admin.place([(sku, 1)], cod())
    order = admin.wait_status(order.order_id, {common_pb2.ORDER_STATUS_PROCESSING})
    assert order.status == common_pb2.ORDER_STATUS_PROCESSING, order.cancel_reason
    return order


def _next_task(admin: Client) -> fulfillment_pb2.PickTask:
    task = admin.fulfillment.NextPickTask(fulfillment_pb2.NextPickTaskRequest(fc_id="FC-BLR"),
                                          metadata=admin.metadata)
    assert task.lines, task
    return task


@pytest.fixture(scope="module")
def world(tote: ToteServer, admin: Client) -> World:
    sku, gtin = unique("EDGE"), "4006381333931"
    admin.product(sku, gtin=gtin)
    admin.receive("FC-BLR", sku, 100_000)
    packed = _processing(admin, sku)
    task = _next_task(admin)
    for line in task.lines:
        for i in range(line.quantity):
            admin.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                task_id=task.task_id, barcode=line.gtin, scan_id=f"{line.line_id}-{i}"),
                metadata=admin.metadata)
    result = admin.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
        order_id=packed.order_id, weight_grams=600, box="M"), metadata=admin.metadata,
        timeout=60)
    assert result.order.tracking_number, result
    picking = _processing(admin, sku)
    task = _next_task(admin)
    cancel = _processing(admin, sku)
    return World(sku, gtin, packed.order_id, result.order.tracking_number,
                 result.order.carrier, picking.order_id,
                 picking.shipments[0].shipment_id if picking.shipments else "",
                 task.task_id, task.lines[0].line_id, cancel.order_id)


def baseline(desc: descriptor.Descriptor, world: World, depth: int = 0) -> Message:
    """A request of this type with a plausible value in every field it knows by name."""
    overrides = {
        # The sweep's own FC and product, so that edge values do not spoil the shared ones.
        "tote.v1.UpsertFulfillmentCenterRequest": lambda: fulfillment_pb2.
        UpsertFulfillmentCenterRequest(fc=common_pb2.FulfillmentCenter(
            fc_id="FC-EDGE", name="Edge", latitude=28.6, longitude=77.2, cutoff_hour=16,
            daily_capacity=10, address=address(name="FC-EDGE returns"))),
        "tote.v1.PlaceOrderRequest": lambda: place_request([(world.sku, 1)], cod()),
        "tote.v1.CancelOrderRequest": lambda: orders_pb2.CancelOrderRequest(
            order_id=world.cancel_id, reason="hostile sweep"),
        "tote.v1.GetLabelRequest": lambda: message_class(desc)(order_id=world.packed_id),
        "tote.v1.GetPackListRequest": lambda: message_class(desc)(order_id=world.order_id),
    }
    if desc.full_name in overrides:
        return overrides[desc.full_name]()
    msg = message_class(desc)()
    good = world.plausible()
    for field in desc.fields:
        if field.containing_oneof is not None and field.index != \
                field.containing_oneof.fields[-1].index:
            continue  # one member of a oneof (the last: cash on delivery for payment)
        if field.type == F.TYPE_MESSAGE:
            if depth < 3 and not field.message_type.GetOptions().map_entry:
                inner = baseline(field.message_type, world, depth + 1)
                if _is_repeated(field):
                    getattr(msg, field.name).add().CopyFrom(inner)
                else:
                    getattr(msg, field.name).CopyFrom(inner)
        elif field.type == F.TYPE_ENUM and not _is_repeated(field):
            values = field.enum_type.values  # the first value after UNSPECIFIED
            setattr(msg, field.name, values[min(1, len(values) - 1)].number)
        elif field.name in good:
            value = good[field.name]
            if isinstance(value, str) != _is_string(field):
                continue
            if _is_repeated(field):
                getattr(msg, field.name).append(value)
            else:
                setattr(msg, field.name, value)
    if desc.full_name == "tote.v1.Address":
        msg.CopyFrom(address())
    return msg


def _is_repeated(field: F) -> bool:
    return bool(field.is_repeated)


def _is_string(field: F) -> bool:
    return field.type == F.TYPE_STRING


# -- part 1: bytes that are not a message ---------------------------------------------------------

def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _tag(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _delimited(number: int, payload: bytes) -> bytes:
    return _tag(number, 2) + _varint(len(payload)) + payload


def raw_cases(desc: descriptor.Descriptor, world: World, rng: random.Random
              ) -> Iterator[tuple[str, bytes]]:
    """Named byte strings for a request type: corrupt ones, and well-formed oddities."""
    good = baseline(desc, world).SerializeToString()
    for cut in sorted({1, len(good) // 2, len(good) - 1} - {0, len(good)}):
        yield f"truncated at {cut}/{len(good)}", good[:cut]
    for i in range(6):
        yield f"random #{i}", rng.randbytes(rng.randint(1, 48))
    yield "field number 0", _tag(0, 0) + b"\x01"
    yield "end group without start", _tag(1, 4)
    yield "length beyond the end", _tag(1, 2) + _varint(1000) + b"abc"
    yield "11-byte varint", _tag(1, 0) + b"\xff" * 10 + b"\x01"
    for field in desc.fields:
        n = field.number
        if field.type == F.TYPE_STRING:
            yield f"{field.name}: invalid UTF-8", _delimited(n, b"ok\xff\xfe\xc3(")
            yield f"{field.name}: as varint", _tag(n, 0) + _varint(7)
        elif field.type == F.TYPE_MESSAGE:
            for inner in field.message_type.fields:
                if inner.type == F.TYPE_STRING:
                    yield (f"{field.name}.{inner.name}: invalid UTF-8",
                           _delimited(n, _delimited(inner.number, b"\xed\xa0\x80")))
            yield f"{field.name}: as varint", _tag(n, 0) + _varint(1)
            yield f"{field.name}: garbage inside", _delimited(n, b"\x07\xff\xff")
        elif field.type in (F.TYPE_INT32, F.TYPE_INT64, F.TYPE_ENUM, F.TYPE_BOOL):
            yield f"{field.name}: 2^64-1 varint", _tag(n, 0) + _varint(2**64 - 1)
            yield f"{field.name}: 2^40 varint", _tag(n, 0) + _varint(2**40)
            yield f"{field.name}: as string", _delimited(n, b"12")
        elif field.type == F.TYPE_DOUBLE:
            yield f"{field.name}: short fixed64", _tag(n, 1) + b"\x00\x01"
            yield f"{field.name}: as varint", _tag(n, 0) + _varint(3)


def _parses(desc: descriptor.Descriptor, body: bytes) -> bool:
    try:
        message_class(desc).FromString(body)
    except DecodeError:
        return False
    return True


def test_bytes_that_are_not_a_message_are_invalid_argument_with_one_line_and_no_traceback(
        tote: ToteServer, admin: Client, world: World) -> None:
    rng = random.Random(12)
    caller = Caller(admin)
    undecodable: list[tuple[str, str, str]] = []
    lines_before = len(tote.log_path.read_text(errors="replace").splitlines())
    sent = 0
    for path, method in rpcs():
        for case, body in raw_cases(method.input_type, world, rng):
            if not _parses(method.input_type, body):
                undecodable.append((path, case, method.input_type.full_name))
            caller.send(path, method, body, case)
            sent += 1
    answers = caller.finish()
    assert len(undecodable) > 50, "the cases should include many undecodable requests"
    assert bad(answers) == [], f"{len(bad(answers))} of {sent}:\n" + "\n".join(bad(answers))

    by_case = {(a.path, a.case): a for a in answers}
    wrong = []
    for path, case, full_name in undecodable:
        a = by_case[(path, case)]
        if (a.code != grpc.StatusCode.INVALID_ARGUMENT or not NOT_A_MESSAGE.match(a.details)
                or full_name not in a.details or len(a.details) > 200):
            wrong.append(f"{path} [{case}] → {a.code.name}: {a.details[:160]}")
    assert wrong == [], "\n".join(wrong)
    assert tracebacks(tote) == 0
    lines_after = len(tote.log_path.read_text(errors="replace").splitlines())
    assert lines_after - lines_before <= sent, "more than one log line per request"


# -- part 2: well-formed messages full of edge values ---------------------------------------------

def string_edges(world: World) -> list[str]:
    return ["", "x" * 1_000_000, "\x00", "sku\x00tail", "²", "١٢٣", "٣", "-1", "0", " ",
            str(2**63), str(2**64), "9" * 40, "1e400", "NaN", "inf", "\u202e\u0301",
            "💥" * 40, "' OR '1'='1", "%_", *world.other_ids()]


NUMBER_EDGES: dict[int, list[object]] = {
    F.TYPE_INT32: [0, -1, -(2**31), 2**31 - 1],
    F.TYPE_INT64: [0, -1, -(2**63), 2**63 - 1],
    F.TYPE_DOUBLE: [math.nan, math.inf, -math.inf, -0.0, 1e308, -1e308],
    F.TYPE_BOOL: [True, False],
}


def leaf_paths(desc: descriptor.Descriptor, prefix: tuple[F, ...] = (), depth: int = 0
               ) -> Iterator[tuple[F, ...]]:
    """Every field path down to scalars (repeated messages through their first element)."""
    for field in desc.fields:
        path = (*prefix, field)
        yield path
        if (field.type == F.TYPE_MESSAGE and depth < 3
                and not field.message_type.GetOptions().map_entry):
            yield from leaf_paths(field.message_type, path, depth + 1)


def _holder(msg: Message, path: tuple[F, ...]) -> Message:
    """The message that holds the last field of `path` (made present on the way)."""
    for field in path[:-1]:
        value = getattr(msg, field.name)
        if _is_repeated(field):
            msg = value[0] if len(value) else value.add()
        else:
            msg = value
    return msg


def edge_requests(desc: descriptor.Descriptor, world: World
                  ) -> Iterator[tuple[str, Message]]:
    """The baseline with one field set to one edge value, for every field and value."""
    base = baseline(desc, world)
    yield "empty request", message_class(desc)()
    yield "baseline", base
    keys = (f"{world.sku}-{i}" for i in itertools.count())
    strings = string_edges(world)
    for path in leaf_paths(desc):
        field = path[-1]
        name = ".".join(f.name for f in path)

        def variant() -> Message:
            msg = message_class(desc)()
            msg.CopyFrom(base)
            if "idempotency_key" in desc.fields_by_name:
                msg.idempotency_key = next(keys)  # else every variant is the same order's retry
            return msg

        if field.type == F.TYPE_MESSAGE:
            msg = variant()
            _holder(msg, path).ClearField(field.name)
            yield f"{name} unset", msg
            if _is_repeated(field) and not field.message_type.GetOptions().map_entry:
                msg = variant()
                items = getattr(_holder(msg, path), field.name)
                first = items[0] if len(items) else items.add()
                for _ in range(300):
                    items.add().CopyFrom(first)
                yield f"{name} ×300", msg
            continue
        if field.type == F.TYPE_STRING:
            values: list[object] = list(strings)
        elif field.type == F.TYPE_ENUM:
            values = [-1, 99, max(v.number for v in field.enum_type.values)]
        else:
            values = NUMBER_EDGES.get(field.type, [])
        for value in values:
            msg = variant()
            if _is_repeated(field):
                getattr(_holder(msg, path), field.name)[:] = [value]
            else:
                setattr(_holder(msg, path), field.name, value)
            shown = repr(value) if not isinstance(value, str) or len(value) < 40 \
                else f"{len(value)} chars"
            yield f"{name}={shown}", msg


def test_edge_values_in_every_field_never_answer_unknown_or_internal(
        tote: ToteServer, admin: Client, world: World) -> None:
    caller = Caller(admin)
    sent = 0
    for path, method in rpcs():
        for case, request in edge_requests(method.input_type, world):
            caller.send(path, method, request.SerializeToString(), case)
            sent += 1
    answers = caller.finish()
    found = bad(answers)
    assert found == [], f"{len(found)} of {sent}:\n" + "\n".join(found)
    assert tracebacks(tote) == 0
    # NUL in text is refused alike on both backends (PostgreSQL cannot store it), naming the
    # field: "lines.sku='sku\x00tail'" → "lines.sku contains a NUL character …".
    nul = [a for a in answers if "\\x00" in a.case]
    assert len(nul) > 50
    # (A repeated field's element is named with its index: "lines[0].sku".)
    wrong = [f"{a.path} [{a.case}] → {a.code.name}: {a.details[:120]}" for a in nul
             if a.code != grpc.StatusCode.INVALID_ARGUMENT
             or not re.sub(r"\[\d+\]", "", a.details).startswith(
                 a.case.partition("=")[0] + " contains a NUL")]
    assert wrong == [], "\n".join(wrong)
    # The requests were judged, not all refused for one reason: most RPCs answered OK at least
    # once (the baseline) — a sweep that only ever saw errors would prove little.
    ok = {a.path for a in answers if a.code == grpc.StatusCode.OK}
    assert len(ok) >= len(rpcs()) // 2, sorted(ok)
