"""OrderService: thin — each RPC becomes a core command or query."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc import aio
from sqlalchemy.exc import IntegrityError

from core.domain.errors import InvalidArgument
from core.domain.order_commands import RequestCancel
from core.service import orders
from core.service.handlers.orders import PlaceOrderAt
from server import convert
from server.auth import current_principal, storefront_scope
from server.dbexec import DbExecutor, utcnow
from server.hub import EventHub
from server.saga import SagaRunner
from server.settings import Settings
from server.watching import Watchers
from tote.v1 import common_pb2, orders_pb2, orders_pb2_grpc

log = logging.getLogger(__name__)


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    def __init__(
        self, dbx: DbExecutor, saga: SagaRunner, hub: EventHub, settings: Settings
    ) -> None:
        self._dbx = dbx
        self._saga = saga
        self._hub = hub
        self._settings = settings
        self._watchers = Watchers(dbx, hub, settings.max_streams_per_token,
                                  settings.watch_replay_page, settings.watch_replay_rate)

    async def PlaceOrder(self, request: orders_pb2.PlaceOrderRequest,
                         context: aio.ServicerContext) -> common_pb2.Order:
        with self._saga.placing():  # orders first: queued saga passes give way meanwhile
            return await self._place(request)

    async def _place(self, request: orders_pb2.PlaceOrderRequest) -> common_pb2.Order:
        cmd = PlaceOrderAt(convert.place_order_from_pb(request, current_principal().name),
                           utcnow())
        try:
            reply, started = await self._dbx.execute(cmd, convert.placed_reply)
        except IntegrityError:
            # Another call with the same key won the race: answer as its retry.
            reply, started = await self._dbx.execute(cmd, convert.placed_reply)
        if started is not None:
            # The saga starts from the state just committed rather than reading it back.
            self._saga.kick(started.order_id, started)
            log.info("order %s placed (%s, %s)", started.order_id, started.method,
                     started.total)
        return reply

    async def QuoteOrder(self, request: orders_pb2.QuoteOrderRequest,
                         context: aio.ServicerContext) -> orders_pb2.Quote:
        cmd = convert.quote_order_from_pb(request, current_principal().name)
        quote = await self._dbx.read(orders.quote_order, cmd, self._settings.orders)
        return convert.quote_to_pb(quote)

    async def GetOrder(self, request: orders_pb2.GetOrderRequest,
                       context: aio.ServicerContext) -> common_pb2.Order:
        snap = await self._dbx.read(orders.load, request.order_id, storefront_scope())
        return convert.order_to_pb(snap, contact=True)

    async def ListOrders(self, request: orders_pb2.ListOrdersRequest,
                         context: aio.ServicerContext) -> orders_pb2.ListOrdersResponse:
        snaps, token = await self._dbx.read(
            orders.list_orders, storefront=storefront_scope(),
            status=convert.status_from_pb(request.status), fc_id=request.fc_id,
            customer_id=request.customer_id, page_size=request.page_size,
            page_token=request.page_token)
        return orders_pb2.ListOrdersResponse(
            orders=[convert.order_to_pb(s, contact=True) for s in snaps], next_page_token=token)

    async def CancelOrder(self, request: orders_pb2.CancelOrderRequest,
                          context: aio.ServicerContext) -> common_pb2.Order:
        scope = storefront_scope()
        await self._dbx.execute(RequestCancel(request.order_id, request.reason, scope, utcnow()))
        self._saga.kick(request.order_id, urgent=True)
        await self._saga.settle(request.order_id)
        snap = await self._dbx.read(orders.load, request.order_id, scope)
        return convert.order_to_pb(snap, contact=True)

    async def WatchOrder(self, request: orders_pb2.WatchOrderRequest,
                         context: aio.ServicerContext) -> AsyncIterator[bytes]:
        """Replies are serialized tote.v1.OrderEvent bytes (see `add_to_server`): the hub
        serializes each live event once for every watcher."""
        async for payload in self._watchers.watch_order(request.order_id, context):
            yield payload

    async def WatchOrders(self, request: orders_pb2.WatchOrdersRequest,
                          context: aio.ServicerContext) -> AsyncIterator[bytes]:
        after = _parse_event_id(request.after_event_id)
        async for payload in self._watchers.watch_orders(after, request.fc_id, context):
            yield payload


_SERVICE = "tote.v1.OrderService"


def add_to_server(servicer: OrderServicer, server: aio.Server) -> None:
    """Register OrderService as the generated code does, except that the watch streams'
    replies are bytes serialized once per event (by the hub), not once per watcher."""
    pb, common = orders_pb2, common_pb2
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        "PlaceOrder": grpc.unary_unary_rpc_method_handler(
            servicer.PlaceOrder, request_deserializer=pb.PlaceOrderRequest.FromString,
            response_serializer=common.Order.SerializeToString),
        "QuoteOrder": grpc.unary_unary_rpc_method_handler(
            servicer.QuoteOrder, request_deserializer=pb.QuoteOrderRequest.FromString,
            response_serializer=pb.Quote.SerializeToString),
        "GetOrder": grpc.unary_unary_rpc_method_handler(
            servicer.GetOrder, request_deserializer=pb.GetOrderRequest.FromString,
            response_serializer=common.Order.SerializeToString),
        "ListOrders": grpc.unary_unary_rpc_method_handler(
            servicer.ListOrders, request_deserializer=pb.ListOrdersRequest.FromString,
            response_serializer=pb.ListOrdersResponse.SerializeToString),
        "CancelOrder": grpc.unary_unary_rpc_method_handler(
            servicer.CancelOrder, request_deserializer=pb.CancelOrderRequest.FromString,
            response_serializer=common.Order.SerializeToString),
        "WatchOrder": grpc.unary_stream_rpc_method_handler(
            servicer.WatchOrder, request_deserializer=pb.WatchOrderRequest.FromString),
        "WatchOrders": grpc.unary_stream_rpc_method_handler(
            servicer.WatchOrders, request_deserializer=pb.WatchOrdersRequest.FromString),
    }
    # A method added to the proto must be registered here too (its generated handler is not).
    assert set(handlers) == set(pb.DESCRIPTOR.services_by_name["OrderService"]
                                .methods_by_name), "OrderService's methods changed"
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_SERVICE, handlers),))
    server.add_registered_method_handlers(_SERVICE, handlers)


def _parse_event_id(value: str) -> int | None:
    if not value:
        return None
    # isdigit() alone takes "²" and other digits int() refuses; ids are below 2^63 (BIGINT).
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**63:
        raise InvalidArgument("after_event_id must be an event_id this server sent",
                              field="after_event_id")
    return int(value)
