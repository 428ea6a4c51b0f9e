"""FulfillmentService RPCs: a mixin of FulfillmentServicer (`self.ctx` is the ServerContext)."""

from __future__ import annotations

from dataclasses import asdict

from core.domain.errors import InvalidArgument, Unavailable
from core.domain.packing_commands import BeginPacking
from core.service import orders, pack_list, packing
from server import convert
from server.auth import current_principal
from server.context import ServerContext
from server.dbexec import utcnow
from server.servicers.picking import check_fc, line_to_pb
from tote.v1 import common_pb2, fulfillment_pb2


class PackingRpcs:
    ctx: ServerContext

    async def PackOrder(self, request, context) -> fulfillment_pb2.PackResult:
        """Weigh, capture, book the carrier, print the label: the order is PACKED."""
        packer = self.ctx.packer
        assert packer is not None
        if not request.order_id:
            raise InvalidArgument("order_id is required: scan the order's pick slip",
                                  field="order_id")
        principal = current_principal()
        # A packer's handheld token names its FC; it packs only parcels leaving from there.
        scope = principal.fc_id if principal.role == "picker" and principal.fc_id else None
        f = self.ctx.settings.fulfillment
        shipment_id = await self.ctx.dbx.execute(BeginPacking(
            request.order_id, request.shipment_id, request.weight_grams, request.box,
            f.weight_tolerance_pct, f.weight_tolerance_min_g, scope, utcnow()))
        await packer.pack(shipment_id)
        snap = await self.ctx.dbx.read(orders.load, request.order_id)
        label = await self.ctx.dbx.read(packing.label_of, shipment_id)
        if label is None:
            raise Unavailable(f"shipment {shipment_id} is still being packed; ask again")
        return fulfillment_pb2.PackResult(
            order=convert.order_to_pb(snap),
            label=common_pb2.Label(tracking_number=label.tracking_number,
                                   format=common_pb2.LABEL_FORMAT_PDF, content=label.pdf))

    async def GetPackList(self, request, context) -> fulfillment_pb2.GetPackListResponse:
        """The picked units of a tote's (or an order's, or one shipment's) parcels."""
        key, value = pack_list.which(request.task_id, request.order_id, request.shipment_id,
                                     request.tote_code)
        if key == "tote_code":
            key, value = "task_id", await self.ctx.dbx.read(pack_list.task_of_tote, value)
        if key == "task_id":
            # (a method of PickingRpcs, the other mixin of FulfillmentServicer)
            await self._check_task_fc(context, value)  # type: ignore[attr-defined]  # the servicer class mixes in the FC check
        lists = await self.ctx.dbx.read(pack_list.pack_lists, key, value)
        mine = current_principal().fc_id
        if mine and key != "task_id":
            # A handheld of one FC sees that FC's parcels of a split order, and no other FC's.
            here = [pl for pl in lists if pl.fc_id == mine]
            if lists and not here:
                await check_fc(context, lists[0].fc_id)
            lists = here
        return fulfillment_pb2.GetPackListResponse(pack_lists=[fulfillment_pb2.PackList(
            order_id=pl.order_id, shipment_id=pl.shipment_id, fc_id=pl.fc_id, status=pl.status,
            lines=[line_to_pb(asdict(ln)) for ln in pl.lines],
            expected_weight_grams=pl.expected_weight_grams) for pl in lists])
