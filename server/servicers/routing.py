"""FulfillmentService RPCs: a mixin of FulfillmentServicer (`self.ctx` is the ServerContext)."""

from __future__ import annotations

from server.context import ServerContext
from server.servicers.unimplemented import unimplemented


class RoutingRpcs:
    ctx: ServerContext

    async def ExplainRouting(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "ExplainRouting")

    async def AssignOrder(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "AssignOrder")
