"""FulfillmentService: FCs and throughput here; routing, picking, packing and documents in
their own modules (mixins)."""

from __future__ import annotations

from grpc import aio

from core.service import catalog, throughput
from core.service.handlers.catalog import UpsertFc
from server import convert
from server.context import ServerContext
from server.dbexec import utcnow
from server.servicers.documents import DocumentRpcs
from server.servicers.packing import PackingRpcs
from server.servicers.picking import PickingRpcs
from server.servicers.routing import RoutingRpcs
from tote.v1 import common_pb2, fulfillment_pb2, fulfillment_pb2_grpc


class FulfillmentServicer(RoutingRpcs, PickingRpcs, PackingRpcs, DocumentRpcs,
                          fulfillment_pb2_grpc.FulfillmentServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    async def UpsertFulfillmentCenter(self, request: fulfillment_pb2.UpsertFulfillmentCenterRequest,
                                      context: aio.ServicerContext) -> common_pb2.FulfillmentCenter:
        fc = await self.ctx.dbx.execute(UpsertFc(convert.fc_from_pb(request.fc)))
        return convert.fc_to_pb(fc)

    async def ListFulfillmentCenters(self, request: fulfillment_pb2.ListFulfillmentCentersRequest,
                                     context: aio.ServicerContext,
                                     ) -> fulfillment_pb2.ListFulfillmentCentersResponse:
        fcs = await self.ctx.dbx.read(catalog.list_fcs)
        return fulfillment_pb2.ListFulfillmentCentersResponse(
            fcs=[convert.fc_to_pb(fc) for fc in fcs])

    async def GetThroughput(self, request: fulfillment_pb2.GetThroughputRequest,
                            context: aio.ServicerContext) -> fulfillment_pb2.GetThroughputResponse:
        """Orders placed, packed, shipped, delivered and cancelled per hour, oldest first."""
        buckets = await self.ctx.dbx.read(throughput.throughput, request.fc_id, request.hours,
                                          utcnow())
        return fulfillment_pb2.GetThroughputResponse(buckets=[fulfillment_pb2.ThroughputBucket(
            hour_start=convert.ts(b.hour_start), placed=b.get("placed"), packed=b.get("packed"),
            shipped=b.get("shipped"), delivered=b.get("delivered"),
            cancelled=b.get("cancelled")) for b in buckets])
