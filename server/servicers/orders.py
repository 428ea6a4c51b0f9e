"""OrderService: thin — each RPC becomes a core command or query."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
from grpc import aio
from sqlalchemy.exc import IntegrityError

from core.domain.errors import InvalidArgument
from core.persistence.models import OrderEvent
from core.service import events, orders
from server import convert, placing
from server.auth import current_principal, storefront_scope
from server.dbexec import DbExecutor, utcnow
from server.hub import EventHub
from server.saga import SagaRunner
from server.settings import Settings
from tote.v1 import common_pb2, orders_pb2, orders_pb2_grpc

log = logging.getLogger(__name__)
_TERMINAL_TYPES = {"Order_Delivered", "Order_Cancelled"}


class OrderServicer(orders_pb2_grpc.OrderServiceServicer):
    def __init__(
        self, dbx: DbExecutor, saga: SagaRunner, hub: EventHub, settings: Settings
    ) -> None:
        self._dbx = dbx
        self._saga = saga
        self._hub = hub
        self._settings = settings
        self._place_settings = placing.pickled_settings(settings.orders)

    async def PlaceOrder(self, request: bytes, context: aio.ServicerContext) -> bytes:
        """Request and reply travel as bytes (see `add_to_server`): server/placing.py's job
        parses one and builds the other beside the SQL."""
        gate = self._saga.gate
        if gate is None:
            return await self._place(request)
        with gate.placing():
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
        await self._dbx.write(orders.request_cancel, request.order_id, request.reason, scope,
                              utcnow())
        self._saga.kick(request.order_id, urgent=True)
        await self._saga.settle(request.order_id)
        snap = await self._dbx.read(orders.load, request.order_id, scope)
        return convert.order_to_pb(snap)

    async def WatchOrder(self, request, context) -> AsyncIterator[common_pb2.OrderEvent]:
        scope = storefront_scope()
        await self._dbx.read(orders.load, request.order_id, scope)  # NOT_FOUND if not theirs
        sub = await self._hub.subscribe(request.order_id)
        try:
            past = await self._dbx.read(events.history, request.order_id)
            last = 0
            for event in past:
                last = event.event_id
                yield convert.event_to_pb(event)
                if event.type in _TERMINAL_TYPES:
                    return
            while True:
                event = await sub.next()
                if event.event_id <= last:
                    continue
                last = event.event_id
                yield convert.event_to_pb(event)
                if event.type in _TERMINAL_TYPES:
                    return
        finally:
            self._hub.unsubscribe(sub)

    async def WatchOrders(self, request, context) -> AsyncIterator[common_pb2.OrderEvent]:
        scope = storefront_scope()
        fc_id = request.fc_id

        def accept(e: OrderEvent) -> bool:
            return (scope is None or e.storefront == scope) and (not fc_id or e.fc_id == fc_id)

        sub = await self._hub.subscribe(None, accept)
        try:
            after = _parse_event_id(request.after_event_id)
            caught_up: set[int] = set()  # sent from the database; skip them when live too
            if after is not None:
                while True:
                    batch = await self._dbx.read(events.after, after, 500)
                    for event in batch:
                        after = event.event_id
                        if accept(event):
                            caught_up.add(event.event_id)
                            yield convert.event_to_pb(event)
                    if len(batch) < 500:
                        break
            while True:
                event = await sub.next()
                # Live events arrive in commit order; on PostgreSQL that may differ from id
                # order, so only events already sent are skipped, not every lower id.
                if event.event_id in caught_up:
                    caught_up.discard(event.event_id)
                    continue
                yield convert.event_to_pb(event)
        finally:
            self._hub.unsubscribe(sub)


def add_to_server(servicer: OrderServicer, server: aio.Server) -> None:
    """Register OrderService as the generated code does, except that PlaceOrder's request
    and reply are left as bytes for servicer.PlaceOrder (no (de)serializing on the loop)."""
    registrar = _Registrar()
    orders_pb2_grpc.add_OrderServiceServicer_to_server(servicer, registrar)
    handlers = dict(registrar.handlers)
    assert set(handlers) == set(orders_pb2.DESCRIPTOR.services_by_name["OrderService"]
                                .methods_by_name), "generated OrderService handlers changed"
    handlers["PlaceOrder"] = grpc.unary_unary_rpc_method_handler(servicer.PlaceOrder)
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

