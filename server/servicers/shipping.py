"""ShippingService: labels, carrier hand-off, tracking and COD reconciliation."""

from __future__ import annotations

from server.context import ServerContext
from server.servicers.unimplemented import unimplemented
from tote.v1 import shipping_pb2_grpc


class ShippingServicer(shipping_pb2_grpc.ShippingServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    async def GetLabel(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "GetLabel")

    async def HandOff(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "HandOff")

    async def RecordTrackingEvent(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "RecordTrackingEvent")

    async def RecordCodRemittance(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "RecordCodRemittance")

    async def GetCodReconciliation(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "GetCodReconciliation")
