"""FulfillmentService RPCs: a mixin of FulfillmentServicer (`self.ctx` is the ServerContext)."""

from __future__ import annotations

from grpc import aio

from core.service import routing
from core.service.handlers.routing import AssignOrder
from server import convert
from server.auth import current_principal
from server.context import ServerContext
from server.dbexec import utcnow
from tote.v1 import common_pb2, fulfillment_pb2


class RoutingRpcs:
    ctx: ServerContext

    async def ExplainRouting(self, request: fulfillment_pb2.ExplainRoutingRequest,
                             context: aio.ServicerContext) -> fulfillment_pb2.RoutingDecision:
        decision = await self.ctx.dbx.read(routing.explain, request.order_id)
        return fulfillment_pb2.RoutingDecision(
            chosen_fc_id=decision.chosen_fc_id,
            candidates=[fulfillment_pb2.RoutingCandidate(
                fc_id=c["fc_id"], score=float(c["score"]), reason=c["reason"],
                factors={k: float(v) for k, v in c["factors"].items()})
                for c in decision.candidates])

    async def AssignOrder(self, request: fulfillment_pb2.AssignOrderRequest,
                          context: aio.ServicerContext) -> common_pb2.Order:
        snap = await self.ctx.dbx.execute(AssignOrder(request.order_id, request.fc_id,
                                                      current_principal().name, utcnow()))
        return convert.order_to_pb(snap)
