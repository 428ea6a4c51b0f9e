"""The demo's simulated warehouse floor: pickers, packers, a dock supervisor and the carrier.

Each is an asyncio task on the demo's gRPC channel using the same RPCs (and tokens) as the
handhelds, the console and the carrier would. Mistakes are made on purpose now and then — a
wrong barcode, a box weighed with something extra, an empty bin — to show tote refusing them.
"""

from __future__ import annotations

import asyncio
import collections
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
import httpx
from grpc import aio

from core.domain.packing import BOXES
from core.domain.words import count
from terminals.backoff import retry_after_s
from tote.v1 import (
    common_pb2,
    fulfillment_pb2,
    fulfillment_pb2_grpc,
    orders_pb2,
    orders_pb2_grpc,
    shipping_pb2,
    shipping_pb2_grpc,
)

T = TypeVar("T")
Metadata = tuple[tuple[str, str], ...]
Say = Callable[[str, str | None], None]
REFUSED = "33"  # the colour of a refusal line
# Order statuses of the carrier's track, each one POST …/advance away from the last.
TRACK_STEPS = 3


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


async def with_backoff(call: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    """await call(); while tote throttles it (RESOURCE_EXHAUSTED with retry-after-ms), wait
    the server's delay and call again — a throttled call changed nothing — at most
    `attempts` times in all."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except grpc.RpcError as exc:
            delay = retry_after_s(exc)
            if delay is None or attempt == attempts:
                raise
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def badge(fc_id: str) -> str:
    """The demo picker's operator badge at an FC (kept with each scan for the audit trail)."""
    return f"OP-{fc_id}-1"


@dataclass
class Tokens:
    """Who is who on the floor: an admin (the shop), the dock supervisor, one picker per FC."""

    admin: Metadata
    supervisor: Metadata
    pickers: dict[str, Metadata]


@dataclass
class Ledger:
    """What the floor has done so far, for the final tables."""

    parcels: dict[str, str] = field(default_factory=dict)   # tracking number → order id
    labels: list[Path] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    delivered: set[str] = field(default_factory=set)       # tracking numbers
    scans: int = 0
    wrong_scans: int = 0
    short_picks: int = 0
    weight_refusals: int = 0


class Floor:
    """The simulated people of three FCs, a dock and a courier company."""

    def __init__(self, channel: aio.Channel, tokens: Tokens, http: httpx.AsyncClient,
                 catalog: dict[str, tuple[str, int]], label_dir: Path, say: Say,
                 rand: random.Random) -> None:
        self.fulfillment = fulfillment_pb2_grpc.FulfillmentServiceStub(channel)
        self.shipping = shipping_pb2_grpc.ShippingServiceStub(channel)
        self.orders = orders_pb2_grpc.OrderServiceStub(channel)
        self.tokens, self.http, self.say, self.rand = tokens, http, say, rand
        self.catalog = catalog  # sku → (gtin, grams)
        self.label_dir = label_dir
        self.done = Ledger()
        self.to_pack: dict[str, asyncio.Queue[str]] = collections.defaultdict(asyncio.Queue)
        self.at_dock: list[tuple[str, str]] = []  # (carrier, tracking number)
        self.busy: set[asyncio.Task[None]] = set()
        self.zpl_written = False

    def start(self, fc_ids: list[str]) -> list[asyncio.Task[None]]:
        """One picker and one packer per FC, and the dock supervisor."""
        tasks = [asyncio.create_task(self._forever(f"picker at {fc}", self.pick_round, fc))
                 for fc in fc_ids]
        tasks += [asyncio.create_task(self._forever(f"packer at {fc}", self.pack_next, fc))
                  for fc in fc_ids]
        tasks.append(asyncio.create_task(self._forever("dock", self.hand_off_batch)))
        return tasks

    async def _forever(self, who: str, step: Callable[..., object], *args: str) -> None:
        """Repeat one actor's step; an unexpected refusal is shown and the actor carries on."""
        while True:
            try:
                await step(*args)  # type: ignore[misc]  # each step is an async callable
            except grpc.RpcError as exc:
                self.say(f"{who}: {exc.code().name}: {exc.details()} (trying again)", REFUSED)
                await asyncio.sleep(1.0)
            except httpx.HTTPError as exc:
                self.say(f"{who}: the sandbox did not answer ({exc}); trying again", REFUSED)
                await asyncio.sleep(1.0)

    # -- picking ---------------------------------------------------------------------------------

    async def pick_round(self, fc_id: str) -> None:
        """Ask for a pick task and walk it; nothing waiting: look again in a moment."""
        md = self.tokens.pickers[fc_id]
        try:
            task = await self.fulfillment.NextPickTask(
                fulfillment_pb2.NextPickTaskRequest(fc_id=fc_id), metadata=md)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.3)
            return
        orders = sorted({line.order_id for line in task.lines})
        self.say(f"picker at {fc_id}: task {task.task_id[-6:]}, "
                 f"{count(len(task.lines), 'line')} of "
                 f"{count(len(orders), 'order')}", None)
        wanted = {line.gtin for line in task.lines}
        for line in task.lines:
            await self.pick_line(fc_id, task.task_id, line, wanted)
        for order_id in orders:  # the tote goes to the packing station
            self.to_pack[fc_id].put_nowait(order_id)

    async def pick_line(self, fc_id: str, task_id: str, line: fulfillment_pb2.PickLine,
                        wanted: set[str]) -> None:
        md = self.tokens.pickers[fc_id]
        todo = line.quantity - line.picked
        short = 1 if todo and self.rand.random() < 0.04 else 0
        for _ in range(todo - short):
            if self.rand.random() < 0.05:
                await self.wrong_scan(fc_id, task_id, wanted)
            await asyncio.sleep(self.rand.uniform(0.01, 0.05))  # walking to the bin
            try:
                scanned = await self.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                    task_id=task_id, barcode=line.gtin, scan_id=str(uuid.uuid4()),
                    operator_id=badge(fc_id)), metadata=md)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                    raise
                self.say(f"picker at {fc_id}: {line.sku} refused: {exc.details()}", REFUSED)
                return
            self.done.scans += scanned.line.picked > 0
        if short:
            reply = await self.fulfillment.ReportShortPick(fulfillment_pb2.ReportShortPickRequest(
                task_id=task_id, line_id=line.line_id, missing=short,
                operator_id=badge(fc_id)), metadata=md)
            self.done.short_picks += 1
            item = line.name or line.sku
            self.say(f"picker at {fc_id}: bin {line.bin} is empty — 1×{item} of order "
                     f"{line.order_id[-8:]} reported short ({reply.line.picked} picked)", REFUSED)

    async def wrong_scan(self, fc_id: str, task_id: str, wanted: set[str]) -> None:
        """The picker grabs the neighbour's item: tote refuses it and nothing changes."""
        others = [gtin for gtin, _ in self.catalog.values() if gtin not in wanted]
        if not others:
            return
        try:
            await self.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                task_id=task_id, barcode=self.rand.choice(others), scan_id=str(uuid.uuid4()),
                operator_id=badge(fc_id)), metadata=self.tokens.pickers[fc_id])
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            self.done.wrong_scans += 1
            self.say(f"picker at {fc_id}: wrong item scanned, refused: {exc.details()}", REFUSED)

    # -- packing ---------------------------------------------------------------------------------

    async def pack_next(self, fc_id: str) -> None:
        """Pack the parcels of the next order whose tote reached this FC's packing station."""
        order_id = await self.to_pack[fc_id].get()
        order = await self.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id),
                                           metadata=self.tokens.admin)
        for shipment in order.shipments:
            if shipment.fc_id == fc_id and shipment.status == "picked":
                await self.pack(fc_id, order, shipment)

    async def pack(self, fc_id: str, order: common_pb2.Order,
                   shipment: common_pb2.Shipment) -> None:
        # Once picked, a parcel's lines are what is in the tote (the units reported short gone).
        grams = sum(self.catalog[line.sku][1] * line.quantity for line in shipment.lines)
        box = "S" if grams < 800 else "M" if grams < 3_000 else "L"
        weight = grams + BOXES[box] + self.rand.randint(-20, 20)  # the scale is never exact
        if self.rand.random() < 0.1:  # the packer slipped a spare item into the box
            await self._weigh(fc_id, order, shipment, weight + max(300, weight // 3), box)
        packed = await self._weigh(fc_id, order, shipment, weight, box)
        if packed is None:
            return
        parcel = next(s for s in packed.order.shipments if s.shipment_id == shipment.shipment_id)
        if parcel.status != "packed":
            self.say(f"packer at {fc_id}: order {order.order_id[-8:]} was not packed: "
                     f"{packed.order.cancel_reason or parcel.status}", REFUSED)
            return
        self.done.parcels[parcel.tracking_number] = order.order_id
        path = self.label_dir / f"{parcel.tracking_number}.pdf"
        await asyncio.to_thread(path.write_bytes, packed.label.content)
        self.done.labels.append(path)
        if not self.zpl_written:  # one label as the thermal printer gets it, to look at
            self.zpl_written = True
            zpl = await self.shipping.GetLabel(shipping_pb2.GetLabelRequest(
                order_id=order.order_id, format=common_pb2.LABEL_FORMAT_ZPL),
                metadata=self.tokens.supervisor)
            await asyncio.to_thread((self.label_dir / f"{zpl.tracking_number}.zpl").write_bytes,
                                    zpl.content)
        self.at_dock.append((parcel.carrier, parcel.tracking_number))

    async def _weigh(self, fc_id: str, order: common_pb2.Order, shipment: common_pb2.Shipment,
                     weight: int, box: str) -> fulfillment_pb2.PackResult | None:
        """PackOrder with this scale reading; a refusal is shown (None)."""
        try:
            return await self.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
                order_id=order.order_id, weight_grams=weight, box=box,
                shipment_id=shipment.shipment_id), metadata=self.tokens.pickers[fc_id], timeout=60)
        except grpc.RpcError as exc:
            if exc.code() not in (grpc.StatusCode.FAILED_PRECONDITION,
                                  grpc.StatusCode.INVALID_ARGUMENT):
                raise
            self.done.weight_refusals += "weighs" in (exc.details() or "")
            self.say(f"packer at {fc_id}: order {order.order_id[-8:]} refused: "
                     f"{exc.details()}", REFUSED)
            return None

    # -- the dock and the carrier ----------------------------------------------------------------

    async def hand_off_batch(self) -> None:
        """Every couple of seconds the truck takes what is packed, with a manifest."""
        await asyncio.sleep(2.0)
        ready, waiting = await self._ready_for_the_truck()
        self.at_dock = waiting + self.at_dock[len(ready) + len(waiting):]
        by_carrier: dict[str, list[str]] = collections.defaultdict(list)
        for carrier, tracking in ready:
            by_carrier[carrier].append(tracking)
        for carrier, numbers in sorted(by_carrier.items()):
            try:
                manifest = await self.shipping.HandOff(shipping_pb2.HandOffRequest(
                    carrier=carrier, tracking_numbers=numbers), metadata=self.tokens.supervisor)
            except grpc.RpcError:
                self.at_dock += [(carrier, t) for t in numbers]  # they wait for the next truck
                raise
            self.done.manifests.append(manifest.manifest_id)
            self.say(f"dock: manifest {manifest.manifest_id[-8:]} hands {len(numbers)} "
                     f"parcel(s) to {carrier}", None)
            for tracking in numbers:
                task = asyncio.create_task(self.carry(tracking))
                self.busy.add(task)
                task.add_done_callback(self.busy.discard)

    async def _ready_for_the_truck(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Parcels whose order is packed (or partly shipped) go; a split order's first parcel
        waits at the dock until its other parcels are packed too (HandOff would refuse it)."""
        ready: list[tuple[str, str]] = []
        waiting: list[tuple[str, str]] = []
        for carrier, tracking in list(self.at_dock):
            order = await self.orders.GetOrder(orders_pb2.GetOrderRequest(
                order_id=self.done.parcels[tracking]), metadata=self.tokens.admin)
            go = order.status in (common_pb2.ORDER_STATUS_PACKED, common_pb2.ORDER_STATUS_SHIPPED)
            (ready if go else waiting).append((carrier, tracking))
        return ready, waiting

    async def carry(self, tracking: str) -> None:
        """The courier moves the parcel along: in transit, out for delivery, delivered."""
        for _ in range(TRACK_STEPS):
            await asyncio.sleep(self.rand.uniform(0.4, 1.5))
            for attempt in range(5):
                try:
                    r = await self.http.post(f"/v1/shipments/{tracking}/advance", json={})
                except httpx.HTTPError as exc:
                    self.say(f"carrier: {tracking} not advanced ({exc}); trying again", REFUSED)
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                if r.status_code == 409:  # already delivered
                    self.done.delivered.add(tracking)
                    return
                if r.is_success:
                    break
                self.say(f"carrier: {tracking} not advanced: HTTP {r.status_code} {r.text[:80]}",
                         REFUSED)
                return
        self.done.delivered.add(tracking)
