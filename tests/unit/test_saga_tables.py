"""The real saga tables (core/saga/order.py, core/saga/packing.py): every step names its action,
outcome, events and compensation, the module that holds each table names them for a reader, and
the runner over each table makes the commands and gateway calls a saga makes, in their order."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain import saga_commands as sc
from core.domain.events import EventType
from core.domain.money import Money
from core.domain.order import InventoryState, OrderStatus, PaymentMethod, PaymentState
from core.domain.packing import FinalAmounts
from core.domain.packing_commands import CancelAfterFailedCapture, TouchShipment
from core.domain.saga import Decision, SagaState
from core.saga import order as order_module
from core.saga import packing as packing_module
from core.saga.order import OrderSagaTimes, order_saga
from core.saga.packing import packing_saga
from core.saga.runner import SagaTable, run
from core.service.packing import Progress
from core.service.ports import GatewayRejected, GatewayUnavailable

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TIMES = OrderSagaTimes(retry_later_s=2.0, upi_poll_interval_s=5.0,
                       upi_expiry=timedelta(minutes=10))


class Bus:
    """Records each command; answers it from `answers` (by command class), reads from `reads`."""

    def __init__(self, answers: dict[type, Any] | None = None,
                 reads: list[Any] | None = None) -> None:
        self.answers = answers or {}
        self.reads = reads or []
        self.log: list[str] = []

    async def execute(self, cmd: Any) -> Any:
        self.log.append(type(cmd).__name__)
        answer = self.answers.get(type(cmd))
        return answer(cmd) if callable(answer) else answer

    async def read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.log.append("read")
        return self.reads.pop(0) if self.reads else None


class Gateway:
    """Records each call with its arguments; `fail` maps a call to the error it raises."""

    def __init__(self, fail: dict[str, Exception] | None = None,
                 declined: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail or {}
        self.declined = declined

    def _call(self, name: str, **kw: Any) -> None:
        self.calls.append((name, kw))
        if name in self.fail:
            raise self.fail.pop(name)

    async def authorize(self, **kw: Any) -> Any:
        self._call("authorize", **kw)
        if self.declined:
            return _Auth("declined", None, "insufficient_funds", "no money")
        return _Auth("authorized", "auth_1", None, "ok")

    async def void(self, **kw: Any) -> None:
        self._call("void", **kw)

    async def capture(self, **kw: Any) -> Any:
        self._call("capture", **kw)
        return _Capture("cap_1", kw["amount_minor"])

    async def refund(self, **kw: Any) -> None:
        self._call("refund", **kw)

    async def create_upi_intent(self, **kw: Any) -> None:
        self._call("create_upi_intent", **kw)

    async def get_upi_intent(self, intent_id: str, **kw: Any) -> Any:
        self._call("get_upi_intent", **kw)
        return None

    async def cancel_upi_intent(self, **kw: Any) -> str:
        self._call("cancel_upi_intent", **kw)
        return "cancelled"


class _Auth:
    def __init__(self, status: str, authorization_id: str | None, decline_code: str | None,
                 message: str) -> None:
        self.status, self.authorization_id = status, authorization_id
        self.decline_code, self.message = decline_code, message


class _Capture:
    def __init__(self, capture_id: str, amount_minor: int) -> None:
        self.capture_id, self.amount_minor = capture_id, amount_minor


def card_order(**changes: Any) -> SagaState:
    st = SagaState("ord_1", OrderStatus.PENDING, InventoryState.PENDING,
                   PaymentState.AUTHORIZING, PaymentMethod.CARD, False, Money(1234, "INR"),
                   "tok_1", None, None, None, None)
    return replace(st, **changes)


def saga_of(bus: Bus, gateway: Gateway) -> SagaTable[SagaState]:
    return order_saga(bus, gateway, TIMES, clock=lambda: NOW)  # type: ignore[arg-type]  # fakes


# -- the tables as a reader sees them -----------------------------------------------------------

def tables() -> list[tuple[Any, SagaTable[Any]]]:
    bus, gateway = Bus(), Gateway()
    return [(order_module, saga_of(bus, gateway)),
            (packing_module, packing_saga(bus, gateway, gateway,  # type: ignore[arg-type]  # fakes
                                          lambda p: (b"", "")))]


def test_the_order_saga_is_inventory_and_payment_side_by_side_each_undone_by_its_compensation():
    saga = tables()[0][1]
    assert [s.name for s in saga.steps] == ["inventory", "payment"] and saga.side_by_side
    inventory, payment = saga.steps
    assert (inventory.succeeded, inventory.failed, inventory.compensated) == (
        EventType.INVENTORY_LOCKED, EventType.INVENTORY_FAILURE, EventType.INVENTORY_RELEASED)
    assert (payment.succeeded, payment.failed, payment.compensated) == (
        EventType.PAYMENT_AUTHORIZED, EventType.PAYMENT_FAILED, EventType.PAYMENT_VOIDED)
    assert all(callable(s.action) and callable(s.outcome) and callable(s.compensation)
               for s in saga.steps)
    assert saga.completed == (EventType.ORDER_READY_FOR_FULFILLMENT,)
    assert saga.cancelled == (EventType.ORDER_CANCELLED,)


def test_the_packing_saga_is_capture_carrier_label_one_after_another_then_packed():
    saga = tables()[1][1]
    assert [s.name for s in saga.steps] == ["capture", "carrier", "label"]
    assert not saga.side_by_side and saga.complete is not None
    assert saga.steps[0].succeeded == EventType.PAYMENT_CAPTURED
    assert saga.completed == (EventType.ORDER_PACKED,)
    assert set(saga.cancelled) == {EventType.PAYMENT_VOIDED, EventType.PAYMENT_REFUNDED,
                                   EventType.INVENTORY_RELEASED, EventType.ORDER_CANCELLED}


@pytest.mark.parametrize("which", [0, 1], ids=["order", "packing"])
def test_every_step_and_event_of_a_table_is_named_where_the_table_is(which):
    module, saga = tables()[which]
    doc = inspect.getdoc(module) or ""
    for step in saga.steps:
        assert step.name in doc
        assert (step.compensation is None) == (step.compensated is None), step.name
        for event in (step.succeeded, step.failed, step.compensated):
            if event is not None:
                assert event.value in doc, (step.name, event)
    for event in (*saga.completed, *saga.cancelled):
        assert event.value in doc, event


# -- the order saga run by the runner -----------------------------------------------------------

def test_a_card_order_locks_and_takes_the_hold_side_by_side_and_rests_once_processing():
    bus = Bus({sc.LockInventory: card_order(inventory=InventoryState.LOCKED),
               sc.RecordPaymentAuthorized: card_order(
                   status=OrderStatus.PROCESSING, inventory=InventoryState.LOCKED,
                   payment=PaymentState.AUTHORIZED, authorization_id="auth_1")})
    gateway = Gateway()
    done = asyncio.run(run(saga_of(bus, gateway), "ord_1", card_order()))
    assert not done.waiting
    # The committed PROCESSING ends the pass: no read back, nothing to reschedule.
    assert sorted(bus.log) == ["LockInventory", "RecordPaymentAuthorized"]
    assert gateway.calls == [("authorize", {"order_id": "ord_1", "token": "tok_1",
                                            "amount_minor": 1234, "currency": "INR"})]


def test_a_declined_card_releases_the_soft_locks_and_cancels():
    failed = card_order(inventory=InventoryState.LOCKED, payment=PaymentState.FAILED)
    bus = Bus({sc.LockInventory: card_order(inventory=InventoryState.LOCKED),
               sc.RecordPaymentFailed: failed}, reads=[failed])
    done = asyncio.run(run(saga_of(bus, Gateway(declined=True)), "ord_1", card_order()))
    assert done.decision == Decision.COMPENSATE and not done.waiting
    assert sorted(bus.log[:2]) == ["LockInventory", "RecordPaymentFailed"]
    assert bus.log[2:] == ["read", "ReleaseInventory", "FinishCancel"]


def test_a_gateway_without_an_answer_leaves_the_hold_to_ask_again_later():
    bus = Bus({sc.LockInventory: card_order(inventory=InventoryState.LOCKED)},
              reads=[card_order(inventory=InventoryState.LOCKED)])
    gateway = Gateway(fail={"authorize": GatewayUnavailable("down", order_id="ord_1",
                                                            step="authorize")})
    done = asyncio.run(run(saga_of(bus, gateway), "ord_1", card_order()))
    assert (done.decision, done.waiting, done.retry_in) == (Decision.WAIT, True, 2.0)


def test_a_cancelled_processing_order_voids_the_hold_recorded_first_and_releases_stock():
    authorized = card_order(status=OrderStatus.PROCESSING, inventory=InventoryState.LOCKED,
                            payment=PaymentState.AUTHORIZED, authorization_id="auth_1",
                            cancel_requested=True)
    bus = Bus({sc.BeginPaymentCompensation: replace(authorized, payment=PaymentState.VOIDING)})
    gateway = Gateway()
    done = asyncio.run(run(saga_of(bus, gateway), "ord_1", authorized))
    assert done.decision == Decision.COMPENSATE
    assert gateway.calls == [("void", {"order_id": "ord_1", "authorization_id": "auth_1"})]
    log = bus.log
    # The void is recorded as under way before the gateway is called.
    assert log.index("BeginPaymentCompensation") < log.index("RecordPaymentCompensated")
    assert set(log[:-1]) == {"BeginPaymentCompensation", "RecordPaymentCompensated",
                             "ReleaseInventory"} and log[-1] == "FinishCancel"


def test_an_undo_the_gateway_refuses_waits_and_the_order_is_not_cancelled_yet():
    authorized = card_order(inventory=InventoryState.LOCKED, payment=PaymentState.AUTHORIZED,
                            authorization_id="auth_1", cancel_requested=True)
    bus = Bus({sc.BeginPaymentCompensation: replace(authorized, payment=PaymentState.VOIDING)})
    gateway = Gateway(fail={"void": GatewayRejected(409, "conflict", "no")})
    done = asyncio.run(run(saga_of(bus, gateway), "ord_1", authorized))
    assert (done.waiting, done.retry_in) == (True, 2.0)
    assert "FinishCancel" not in bus.log


# -- the packing saga run by the runner ---------------------------------------------------------

def packing_progress(**changes: Any) -> Progress:
    p = Progress(
        shipment_id="shp_1", shipment_status="packing", order_id="ord_1",
        order_status="PICKING", fc_id="FC-1", method=PaymentMethod.CARD,
        payment_state="authorized", currency="INR", total_minor=1234,
        authorization_id="auth_1", capture_id=None, is_last=True,
        final=FinalAmounts(capture_minor=1000), weight_grams=500, cod_due_minor=0,
        tracking_number=None, carrier=None, service=None, has_label=False, ship_to={},
        ship_from={}, fc_name="FC-1", lines=(("MUG", 1),))
    return replace(p, **changes)


def test_a_refused_capture_voids_the_hold_and_cancels_the_order_with_its_reason():
    bus = Bus()
    gateway = Gateway(fail={"capture": GatewayRejected(402, "declined", "no")})
    saga = packing_saga(bus, gateway, gateway, lambda p: (b"", ""),  # type: ignore[arg-type]  # fakes
                        clock=lambda: NOW)
    done = asyncio.run(run(saga, "shp_1", packing_progress()))
    assert done.failure.startswith("payment capture failed at packing: the gateway refused")
    assert [c[0] for c in gateway.calls] == ["capture", "void"]
    assert gateway.calls[1][1]["step"] == "pack-void"  # its own idempotency key
    assert bus.log == [TouchShipment.__name__, CancelAfterFailedCapture.__name__]


def test_packing_captures_books_prints_and_finishes_in_that_order():
    booked = packing_progress(payment_state="captured", tracking_number="TRK1", carrier="c",
                              service="ground")
    bus = Bus(reads=[booked])
    gateway = Gateway()

    class Carrier:
        async def create_shipment(self, **kw: Any) -> Any:
            gateway.calls.append(("create_shipment", kw))
            return booked

    saga = packing_saga(bus, gateway, Carrier(),  # type: ignore[arg-type]  # fakes
                        lambda p: (b"%PDF", "^XA"), clock=lambda: NOW)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("core.saga.packing.ship_from_of", lambda p: {})
        done = asyncio.run(run(saga, "shp_1", packing_progress()))
    assert done.decision == Decision.COMPLETE
    assert [c[0] for c in gateway.calls] == ["capture", "create_shipment"]
    assert gateway.calls[1][1]["step"] == "shipment-shp_1"
    assert bus.log == ["TouchShipment", "RecordCapture", "TouchShipment",
                       "RecordCarrierBooking", "read", "RecordLabel", "FinishPacking"]
