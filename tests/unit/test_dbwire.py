"""The writer process's wire (server/dbwriter/wire.py): what it sends comes back equal, of the
same types, through pickle's own `loads` — slotted dataclasses and enums by its own reductions,
everything else as pickle would."""

import enum
import pickle
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from core.domain.errors import InvalidArgument
from core.domain.money import Money
from core.domain.order import InventoryState, OrderStatus, PaymentMethod, PaymentState
from core.service.handlers.orders import PlaceOrderAt
from core.service.saga_steps import Decision, SagaState
from server import convert
from server.dbwriter import wire
from tests.harness import card, place_request


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


@dataclass(frozen=True, slots=True)
class Parcel:
    size: Size
    status: OrderStatus
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Box:
    parcel: Parcel


@dataclass(frozen=True, slots=True)
class Empty:
    pass


def round_trip(value: object) -> object:
    return pickle.loads(wire.dumps(value))


def test_a_command_comes_back_equal_with_its_nested_values_and_enums():
    cmd = PlaceOrderAt(convert.place_order_from_pb(place_request([("MUG", 2)], card("tok_1")),
                                                   "shop"), datetime.now(UTC))
    back = round_trip(cmd)
    assert back == cmd and type(back) is PlaceOrderAt
    assert back.order.payment.method is PaymentMethod.CARD  # the member itself, not its value


def test_a_saga_state_comes_back_with_its_enum_members():
    state = SagaState("ord_1", OrderStatus.PENDING, InventoryState.LOCKED,
                      PaymentState.AUTHORIZING, PaymentMethod.UPI, list(Decision)[0],
                      Money(100, "INR"), None, None, "upi_1", "a@b", None)
    back = round_trip(state)
    assert back == state
    assert back.status is OrderStatus.PENDING and back.payment is PaymentState.AUTHORIZING


def test_enum_fields_travel_as_values_and_a_plain_value_in_one_stays_as_it_came():
    assert round_trip(Parcel(Size.LARGE, OrderStatus.SHIPPED)) == Parcel(Size.LARGE,
                                                                          OrderStatus.SHIPPED)
    odd = round_trip(Parcel(Size.SMALL, "NOT-A-STATUS", "x"))  # a caller's mistake: as it is
    assert odd.status == "NOT-A-STATUS" and odd.size is Size.SMALL
    assert round_trip(Box(Parcel(Size.SMALL, OrderStatus.PENDING))).parcel.size is Size.SMALL
    assert round_trip(Empty()) == Empty()


def test_other_values_cross_as_pickle_sends_them():
    values = [OrderStatus.CANCELLED, OrderStatus, Size,
              SimpleNamespace(a=1, when=datetime.now(UTC)), {"k": (1, 2.5, b"x", None)},
              Money(5, "INR")]
    assert round_trip(values) == values
    error = round_trip(InvalidArgument("bad", field="f"))
    assert isinstance(error, InvalidArgument) and error.field == "f"


def test_a_value_that_does_not_pickle_raises_a_pickle_error_and_the_wire_goes_on():
    import threading

    with pytest.raises(wire.PICKLE_ERRORS):
        wire.dumps(Box(threading.Lock()))
    assert round_trip(Box(Parcel(Size.SMALL, OrderStatus.PENDING))).parcel.size is Size.SMALL


def test_frames_are_read_whole_and_only_whole():
    stream = bytearray(wire.frame("one") + wire.frame(["two"]))
    partial = wire.frame("three")
    stream += partial[:5]
    assert list(wire.unframe(stream)) == ["one", ["two"]]
    stream += partial[5:]
    assert list(wire.unframe(stream)) == ["three"] and not stream


def test_the_writer_process_is_started_where_tote_is():
    from server.dbwriter import SOURCE_ROOT

    assert (SOURCE_ROOT / "server" / "dbwriter" / "__main__.py").is_file()
