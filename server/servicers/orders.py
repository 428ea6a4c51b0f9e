"""OrderService: thin — each RPC becomes a core command or query."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
from grpc import aio
from sqlalchemy.exc import IntegrityError

from core.domain.errors import InvalidArgument
from core.domain.order_commands import RequestCancel
from core.service import orders
from server import convert, placing
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
        self._place_settings = placing.pickled_settings(settings.orders)
        self._watchers = Watchers(dbx, hub, settings.max_streams_per_token,
                                  settings.watch_replay_page, settings.watch_replay_rate)

    async def PlaceOrder(self, request: bytes, context: aio.ServicerContext) -> bytes:
        """Request and reply travel as bytes (see `add_to_server`): server/placing.py's job
        parses one and builds the other beside the SQL."""
        with self._saga.placing():  # orders first: queued saga passes give way meanwhile
            return await self._place(request)

    async def _place(self, request: bytes) -> bytes:
        args = (request, current_principal().name, self._place_settings)
        try:
            reply, started = await self._dbx.write(placing.place_order, *args)
        except IntegrityError:
            # Another call with the same key won the race: answer as its retry.
            reply, started = await self._dbx.write(placing.place_order, *args)
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

    async def GetOrder(self, request, context) -> common_pb2.Order:
        snap = await self._dbx.read(orders.load, request.order_id, storefront_scope())
        return convert.order_to_pb(snap)

    async def ListOrders(self, request, context) -> orders_pb2.ListOrdersResponse:
        snaps, token = await self._dbx.read(
            _list, storefront_scope(), convert.status_from_pb(request.status), request.fc_id,
            request.customer_id, request.page_size, request.page_token)
        return orders_pb2.ListOrdersResponse(
            orders=[convert.order_to_pb(s) for s in snaps], next_page_token=token)

    async def CancelOrder(self, request, context) -> common_pb2.Order:
        scope = storefront_scope()
        await self._dbx.execute(RequestCancel(request.order_id, request.reason, scope, utcnow()))
        self._saga.kick(request.order_id, urgent=True)
        await self._saga.settle(request.order_id)
        snap = await self._dbx.read(orders.load, request.order_id, scope)
        return convert.order_to_pb(snap)

    async def WatchOrder(self, request, context) -> AsyncIterator[bytes]:
        """Replies are serialized tote.v1.OrderEvent bytes (see `add_to_server`): the hub
        serializes each live event once for every watcher."""
        async for payload in self._watchers.watch_order(request.order_id, context):
            yield payload

    async def WatchOrders(self, request, context) -> AsyncIterator[bytes]:
        after = _parse_event_id(request.after_event_id)
        async for payload in self._watchers.watch_orders(after, request.fc_id, context):
            yield payload


def add_to_server(servicer: OrderServicer, server: aio.Server) -> None:
    """Register OrderService as the generated code does, except that PlaceOrder's request
    and reply are left as bytes for servicer.PlaceOrder (no (de)serializing on the loop), and
    the watch streams' replies are bytes serialized once per event, not once per watcher."""
    registrar = _Registrar()
    orders_pb2_grpc.add_OrderServiceServicer_to_server(servicer, registrar)
    handlers = dict(registrar.handlers)
    assert set(handlers) == set(orders_pb2.DESCRIPTOR.services_by_name["OrderService"]
                                .methods_by_name), "generated OrderService handlers changed"
    handlers["PlaceOrder"] = grpc.unary_unary_rpc_method_handler(servicer.PlaceOrder)
    handlers["WatchOrder"] = grpc.unary_stream_rpc_method_handler(
        servicer.WatchOrder, request_deserializer=orders_pb2.WatchOrderRequest.FromString)
    handlers["WatchOrders"] = grpc.unary_stream_rpc_method_handler(
        servicer.WatchOrders, request_deserializer=orders_pb2.WatchOrdersRequest.FromString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        registrar.service, handlers),))
    server.add_registered_method_handlers(registrar.service, handlers)


class _Registrar:
    """Stands in for the server to collect the handlers generated code registers."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        pass

    def add_registered_method_handlers(self, service: str,
                                       handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.service, self.handlers = service, handlers


def _list(session, scope, status, fc_id, customer_id, page_size, page_token):
    return orders.list_orders(session, storefront=scope, status=status, fc_id=fc_id,
                              customer_id=customer_id, page_size=page_size,
                              page_token=page_token)


def _parse_event_id(value: str) -> int | None:
    if not value:
        return None
    # isdigit() alone takes "²" and other digits int() refuses; ids are below 2^63 (BIGINT).
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**63:
        raise InvalidArgument("after_event_id must be an event_id this server sent",
                              field="after_event_id")
    return int(value)

