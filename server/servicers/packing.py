"""FulfillmentService RPCs: a mixin of FulfillmentServicer (`self.ctx` is the ServerContext)."""

from __future__ import annotations

from server.context import ServerContext
from server.servicers.unimplemented import unimplemented


class PackingRpcs:
    ctx: ServerContext

    async def PackOrder(self, request, context):  # type: ignore[no-untyped-def]
        await unimplemented(context, "PackOrder")
