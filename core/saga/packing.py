"""The packing saga, from the weight gate passed to PACKED, as the table the runner executes.

    step     action                                         succeeded
    capture  the final capture (card), or the refund of     Payment_Captured
             what is not shipped (a UPI debit)
    carrier  book the parcel with the carrier               (the tracking number)
    label    render the 4x6 label (PDF and ZPL), verified   (the label, kept)
    (all three done: the shipment packed, Order_Packed; PACKED with the last parcel)

    A capture that fails (refused, or no answer after CAPTURE_ROUNDS rounds) cancels the
    order: the hold is voided (card) or the debit refunded (UPI), every lock released —
    Payment_Voided or Payment_Refunded, Inventory_Released, Order_Cancelled.

The steps go one after another. The intent was committed first (BeginPacking, PackOrder's),
then each outside call carries an idempotency key from the order and the step and its result
is recorded in its own write, with no transaction open during the call: repeating the
remaining steps after a crash charges nothing twice and books one parcel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.domain.events import EventType
from core.domain.money import Money
from core.domain.order import PaymentMethod
from core.domain.packing_commands import (
    CancelAfterFailedCapture,
    FinishPacking,
    RecordCapture,
    RecordCarrierBooking,
    RecordLabel,
    TouchShipment,
)
from core.domain.saga import StepOutcome
from core.saga.order import utcnow
from core.saga.runner import Answer, SagaTable, Step
from core.service import packing
from core.service.catalog import return_address
from core.service.packing import Progress
from core.service.ports import Bus, Carrier, GatewayRejected, GatewayUnavailable, PaymentGateway

log = logging.getLogger(__name__)

# A capture whose outcome stays unknown after this many rounds of retries (each round is the
# adapter's own attempts with backoff) is treated as failed: the hold is voided instead.
CAPTURE_ROUNDS = 2
SERVICE = "ground"

# Renders a shipment's label as (PDF, ZPL); CPU work, run in a thread.
LabelRenderer = Callable[[Progress], tuple[bytes, str]]


def packing_saga(bus: Bus, gateway: PaymentGateway, carrier: Carrier, render: LabelRenderer,
                 clock: Callable[[], datetime] = utcnow) -> SagaTable[Progress]:
    """The packing saga's table, its steps bound to these parties."""
    s = _PackingSteps(bus, gateway, carrier, render, clock)
    return SagaTable(
        name="packing",
        steps=(
            Step("capture", action=s.take_payment,
                 outcome=lambda p: _done_if(p.payment_done),
                 succeeded=EventType.PAYMENT_CAPTURED, failed=None,
                 compensation=None, compensated=None),
            Step("carrier", action=s.book_carrier,
                 outcome=lambda p: _done_if(p.tracking_number is not None),
                 succeeded=None, failed=None, compensation=None, compensated=None),
            Step("label", action=s.print_label,
                 outcome=lambda p: _done_if(p.has_label),
                 succeeded=None, failed=None, compensation=None, compensated=None),
        ),
        side_by_side=False,
        load=s.load,
        in_play=lambda p: p.shipment_status == "packing",
        cancel_requested=lambda p: False,  # a cancellation waits for the parcel to be packed
        complete=s.finish,
        completed=(EventType.ORDER_PACKED,),
        cancel=s.give_back_and_cancel,
        cancelled=(EventType.PAYMENT_VOIDED, EventType.PAYMENT_REFUNDED,
                   EventType.INVENTORY_RELEASED, EventType.ORDER_CANCELLED),
    )


def _done_if(done: bool) -> StepOutcome:
    return StepOutcome.DONE if done else StepOutcome.RUNNING


def ship_from_of(p: Progress) -> dict[str, Any]:
    """The FC's return address, the label's sender; FAILED_PRECONDITION when it has none."""
    a = return_address(p.fc_id, p.ship_from or None)
    return {k: a.get(k) or "" for k in ("name", "line1", "line2", "city", "region",
                                        "postal_code", "country", "phone")}


class _PackingSteps:
    """The packing saga's actions and its cancellation (the table above says when each runs)."""

    def __init__(self, bus: Bus, gateway: PaymentGateway, carrier: Carrier,
                 render: LabelRenderer, clock: Callable[[], datetime]) -> None:
        self._bus = bus
        self._gateway = gateway
        self._carrier = carrier
        self._render = render
        self._now = clock

    async def load(self, shipment_id: str) -> Progress | None:
        return await self._bus.read(packing.progress, shipment_id)

    async def take_payment(self, p: Progress) -> Answer[Progress]:
        """The final capture (card) or the refund of what is not shipped (UPI)."""
        await self._bus.execute(TouchShipment(p.shipment_id, self._now()))
        assert p.authorization_id is not None
        amount = Money(p.final.capture_minor, p.currency)
        failure = ""
        for attempt in range(1, CAPTURE_ROUNDS + 1):
            try:
                if p.method == PaymentMethod.CARD:
                    cap = await self._gateway.capture(
                        order_id=p.order_id, authorization_id=p.authorization_id,
                        amount_minor=amount.amount_minor, currency=p.currency)
                    await self._bus.execute(RecordCapture(p.order_id, cap.capture_id,
                                                          cap.amount_minor, 0, self._now()))
                    return Answer(outcome=StepOutcome.DONE)
                # UPI was debited in full when approved: give back what is not shipped.
                if p.final.refund_minor > 0:
                    await self._gateway.refund(
                        order_id=p.order_id, capture_id=p.authorization_id,
                        amount_minor=p.final.refund_minor, currency=p.currency,
                        step="pack-refund")
                # Captured is what was debited; net of the refund it is the value shipped.
                await self._bus.execute(RecordCapture(
                    p.order_id, p.authorization_id, amount.amount_minor + p.final.refund_minor,
                    p.final.refund_minor, self._now()))
                return Answer(outcome=StepOutcome.DONE)
            except GatewayRejected as exc:
                failure = f"the gateway refused the capture of {amount}: {exc}"
                break
            except GatewayUnavailable as exc:
                failure = f"the gateway gave no answer to the capture of {amount}: {exc}"
                log.warning("capture for %s, round %d/%d: %s", p.order_id, attempt,
                            CAPTURE_ROUNDS, exc)
        return Answer(failure=f"payment capture failed at packing: {failure}")

    async def book_carrier(self, p: Progress) -> Answer[Progress]:
        await self._bus.execute(TouchShipment(p.shipment_id, self._now()))
        booked = await self._carrier.create_shipment(
            order_id=p.order_id, service=SERVICE, weight_grams=p.weight_grams,
            ship_to=p.ship_to, ship_from=ship_from_of(p), step=f"shipment-{p.shipment_id}")
        await self._bus.execute(RecordCarrierBooking(p.shipment_id, booked.tracking_number,
                                                     booked.carrier, booked.service,
                                                     self._now()))
        # The label prints the tracking number and the carrier as recorded.
        return Answer(state=await self.load(p.shipment_id))

    async def print_label(self, p: Progress) -> Answer[Progress]:
        pdf, zpl = await asyncio.to_thread(self._render, p)
        await self._bus.execute(RecordLabel(p.shipment_id, pdf, zpl, self._now()))
        return Answer(outcome=StepOutcome.DONE)

    async def finish(self, p: Progress) -> None:
        await self._bus.execute(FinishPacking(p.shipment_id, self._now()))

    async def give_back_and_cancel(self, p: Progress, reason: str) -> None:
        """Void the hold (card) or refund the debit (UPI), release every lock, CANCELLED."""
        assert p.authorization_id is not None
        total = Money(p.total_minor, p.currency)
        if p.method == PaymentMethod.CARD:
            try:
                await self._gateway.void(order_id=p.order_id, authorization_id=p.authorization_id,
                                         step="pack-void")
                refunded, detail = False, f"card hold {p.authorization_id} voided"
                given_back = 0
            except GatewayRejected:
                # The capture we could not confirm did happen: its stored answer names it.
                cap = await self._gateway.capture(
                    order_id=p.order_id, authorization_id=p.authorization_id,
                    amount_minor=p.final.capture_minor, currency=p.currency)
                await self._gateway.refund(order_id=p.order_id, capture_id=cap.capture_id,
                                           amount_minor=cap.amount_minor, currency=p.currency,
                                           step="pack-refund-all")
                refunded, detail = True, f"capture {cap.capture_id} refunded"
                given_back = cap.amount_minor
        else:
            await self._gateway.refund(order_id=p.order_id, capture_id=p.authorization_id,
                                       amount_minor=p.total_minor, currency=p.currency,
                                       step="pack-refund-all")
            refunded, detail = True, f"UPI payment {p.authorization_id} refunded ({total})"
            given_back = p.total_minor
        await self._bus.execute(CancelAfterFailedCapture(p.order_id, reason, refunded, detail,
                                                         self._now(), given_back))
        log.warning("order %s cancelled at packing: %s", p.order_id, reason)
