"""FulfillmentService RPCs: a mixin of FulfillmentServicer (`self.ctx` is the ServerContext)."""

from __future__ import annotations

from server.context import ServerContext
from server.servicers.unimplemented import unimplemented


class PickingRpcs:
    ctx: ServerContext

    async def NextPickTask(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "NextPickTask")

    async def ScanItem(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "ScanItem")

    async def ReportShortPick(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "ReportShortPick")
