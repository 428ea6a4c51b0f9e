"""FulfillmentService and ShippingService: FCs now; picking, packing and carriers come with
the fulfillment issue and answer UNIMPLEMENTED until then."""

from __future__ import annotations

import grpc

from core.service import catalog
from server import convert
from server.dbexec import DbExecutor
from tote.v1 import common_pb2, fulfillment_pb2, fulfillment_pb2_grpc, shipping_pb2_grpc

_LATER = "arrives with the fulfillment issue (routing, picking, packing, carriers)"


async def _unimplemented(context, name: str):  # type: ignore[no-untyped-def]
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{name} {_LATER}")


class FulfillmentServicer(fulfillment_pb2_grpc.FulfillmentServiceServicer):
    def __init__(self, dbx: DbExecutor) -> None:
        self._dbx = dbx

    async def UpsertFulfillmentCenter(self, request, context) -> common_pb2.FulfillmentCenter:
        fc = await self._dbx.write(catalog.upsert_fc, convert.fc_from_pb(request.fc))
        return convert.fc_to_pb(fc)

    async def ListFulfillmentCenters(self, request, context):  # type: ignore[no-untyped-def]
        fcs = await self._dbx.read(catalog.list_fcs)
        return fulfillment_pb2.ListFulfillmentCentersResponse(
            fcs=[convert.fc_to_pb(fc) for fc in fcs])

    async def ExplainRouting(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "ExplainRouting")

    async def AssignOrder(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "AssignOrder")

    async def NextPickTask(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "NextPickTask")

    async def ScanItem(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "ScanItem")

    async def ReportShortPick(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "ReportShortPick")

    async def PackOrder(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "PackOrder")


class ShippingServicer(shipping_pb2_grpc.ShippingServiceServicer):
    async def GetLabel(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "GetLabel")

    async def HandOff(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "HandOff")

    async def RecordTrackingEvent(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "RecordTrackingEvent")

    async def RecordCodRemittance(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "RecordCodRemittance")

    async def GetCodReconciliation(self, request, context):  # type: ignore[no-untyped-def]
        await _unimplemented(context, "GetCodReconciliation")
