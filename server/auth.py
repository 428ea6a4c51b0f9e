"""Bearer-token authentication, role checks and domain-error mapping: one interceptor.

Every RPC but health and reflection needs `authorization: Bearer <token>`. The roles allowed
per RPC are the table below (API.md); admin may do everything.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from core.domain.errors import DomainError
from core.service.tokens import Principal, authenticate
from server.dbexec import DbExecutor
from server.decode import Refused, safe_parser
from server.errors import code_for

log = logging.getLogger(__name__)

PRINCIPAL: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal")

S, P, V, C = "storefront", "picker", "supervisor", "carrier"
ROLES: dict[str, frozenset[str]] = {
    **{f"/tote.v1.OrderService/{m}": frozenset({S, V}) for m in (
        "PlaceOrder", "QuoteOrder", "GetOrder", "ListOrders", "CancelOrder", "WatchOrder",
        "WatchOrders")},
    "/tote.v1.CatalogService/UpsertProduct": frozenset({V}),
    # tote prices every order from the catalog, so a storefront's checkout may read it.
    **{f"/tote.v1.CatalogService/{m}": frozenset({V, S}) for m in ("GetProduct", "ListProducts")},
    "/tote.v1.InventoryService/ReceiveStock": frozenset({V}),
    "/tote.v1.InventoryService/GetStock": frozenset({V, S}),
    **{f"/tote.v1.FulfillmentService/{m}": frozenset({V}) for m in (
        "UpsertFulfillmentCenter", "ListFulfillmentCenters", "ExplainRouting", "AssignOrder")},
    # The picking RPCs are the handheld's; packers use the same handhelds (picker tokens).
    # FulfillmentService is the supervisor's too: a supervisor picks and packs at the
    # problem-solving desk. A picker token created with --fc keeps to its FC (the servicers).
    **{f"/tote.v1.FulfillmentService/{m}": frozenset({P, V}) for m in (
        "NextPickTask", "ScanItem", "ReportShortPick", "PackOrder")},
    **{f"/tote.v1.ShippingService/{m}": frozenset({V}) for m in (
        "GetLabel", "HandOff", "RecordCodRemittance", "GetCodReconciliation")},
    "/tote.v1.ShippingService/RecordTrackingEvent": frozenset({C}),
    # tote's additions to API.md: the packer's pack list and the documents of an order are
    # the handheld's and the supervisor's; floor throughput and manifests the supervisor's.
    "/tote.v1.FulfillmentService/GetPackList": frozenset({P, V}),
    "/tote.v1.FulfillmentService/GetOrderDocument": frozenset({P, V}),
    "/tote.v1.FulfillmentService/GetThroughput": frozenset({V}),
    "/tote.v1.ShippingService/GetManifest": frozenset({V}),
}
PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


def current_principal() -> Principal:
    return PRINCIPAL.get()


def storefront_scope() -> str | None:
    """The storefront whose orders the caller may see; None for roles that see every order."""
    p = PRINCIPAL.get()
    return p.name if p.role == S else None


class TokenCache:
    """Token lookups cached briefly so auth costs no query per call."""

    def __init__(self, dbx: DbExecutor, ttl_s: float = 30.0) -> None:
        self._dbx = dbx
        self._ttl = ttl_s
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def lookup(self, token: str) -> Principal | None:
        # Keyed by the token itself (in memory only, like the request that carried it): a
        # SHA-256 per call was a measurable share of a ScanItem's time.
        key = token
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = await self._dbx.read(authenticate, token)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + (self._ttl if principal else 2.0), principal)
        return principal


def _bearer(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


# grpc's stubs describe the synchronous server's handler (optional, blocking behaviours); an
# aio server's handler holds coroutine functions and async generators, which they cannot say.
AioHandler = Any


class AuthInterceptor(aio.ServerInterceptor):
    def __init__(self, tokens: TokenCache) -> None:
        self._tokens = tokens
        # (method, principal) → (its handler, that handler wrapped for this caller): built
        # once, not per call. A revoked token's principal is no longer returned by the
        # TokenCache, so its entries are never used again; the bound keeps them from piling up.
        self._wrapped: dict[tuple[str, Principal],
                            tuple[AioHandler, grpc.RpcMethodHandler]] = {}
        # method → (its handler, that handler parsing safely) for health and reflection.
        self._public: dict[str, tuple[AioHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        method = details.method
        if handler is None:
            return handler
        if method.startswith(PUBLIC_PREFIXES):
            hit = self._public.get(method)
            if hit is None or hit[0] is not handler:
                hit = self._public[method] = (handler, _parse_safely(handler, method))
            return hit[1]
        token = _bearer(details.invocation_metadata)
        principal = await self._tokens.lookup(token) if token else None
        if principal is None:
            why = ("missing 'authorization: Bearer <token>' metadata" if token is None
                   else "unknown or revoked token")
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED,
                           f"{why}; create one with `tote token create --role ROLE`")
        allowed = ROLES.get(method)
        if principal.role != "admin" and (allowed is None or principal.role not in allowed):
            who = ", ".join(sorted(allowed or ())) or "admin"
            return _refuse(handler, grpc.StatusCode.PERMISSION_DENIED,
                           f"role {principal.role!r} may not call {method}; allowed: {who}")
        key = (method, principal)
        hit = self._wrapped.get(key)
        if hit is not None and hit[0] is handler:
            return hit[1]
        if len(self._wrapped) >= 10_000:
            self._wrapped.clear()
        wrapped = _wrap(handler, principal, method)
        self._wrapped[key] = (handler, wrapped)
        return wrapped


def _refuse(handler: AioHandler, code: grpc.StatusCode, message: str):
    """A handler that answers `code` whatever the request (which is never parsed)."""

    async def unary(request: Any, context: aio.ServicerContext) -> Any:
        await context.abort(code, message)

    async def stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        await context.abort(code, message)
        yield  # pragma: no cover - makes this an async generator

    return _same_kind(handler, unary, stream, None)


def _wrap(handler: AioHandler, principal: Principal, method: str):
    async def unary(request: Any, context: aio.ServicerContext) -> Any:
        if type(request) is Refused:
            await _refused(context, method, request)
        PRINCIPAL.set(principal)
        try:
            return await handler.unary_unary(request, context)
        except DomainError as exc:
            await context.abort(code_for(exc), exc.message)
        except (grpc.RpcError, aio.AbortError, aio.UsageError):
            raise
        except Exception:
            log.exception("internal error in %s", handler)
            await context.abort(grpc.StatusCode.INTERNAL,
                                "internal error; the server log has the details")

    async def stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        if type(request) is Refused:
            await _refused(context, method, request)
        PRINCIPAL.set(principal)
        try:
            async for item in handler.unary_stream(request, context):
                yield item
        except DomainError as exc:
            await context.abort(code_for(exc), exc.message)
        except (grpc.RpcError, aio.AbortError, aio.UsageError):
            raise
        except Exception:
            log.exception("internal error in a stream")
            await context.abort(grpc.StatusCode.INTERNAL,
                                "internal error; the server log has the details")

    return _same_kind(handler, unary, stream,
                      safe_parser(method, handler.request_deserializer))


def _parse_safely(handler: AioHandler, method: str) -> grpc.RpcMethodHandler:
    """A public handler (health) with tote's parser: bad bytes are INVALID_ARGUMENT there too."""
    if handler.request_streaming:
        return handler  # reflection: grpcio parses each message of the stream itself

    async def unary(request: Any, context: aio.ServicerContext) -> Any:
        if type(request) is Refused:
            await _refused(context, method, request)
        try:
            return await handler.unary_unary(request, context)
        except NotImplementedError:
            # grpcio-health-checking serves no Health/List: its generated stub raises this.
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not served here")

    async def stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        if type(request) is Refused:
            await _refused(context, method, request)
        async for item in handler.unary_stream(request, context):
            yield item

    async def writes(request: Any, context: aio.ServicerContext) -> None:
        # Health's Watch is a coroutine that sends with context.write, not a generator.
        if type(request) is Refused:
            await _refused(context, method, request)
        await handler.unary_stream(request, context)

    if handler.unary_stream is not None and not inspect.isasyncgenfunction(handler.unary_stream):
        stream = writes  # type: ignore[assignment]  # grpcio takes either kind of handler
    return _same_kind(handler, unary, stream, safe_parser(method, handler.request_deserializer))


async def _refused(context: aio.ServicerContext, method: str, request: Refused) -> None:
    """Answer a request that did not parse: one log line (a client's mistake, no traceback)."""
    log.info("refused a request to %s: %s", method, request.error.message)
    await context.abort(code_for(request.error), request.error.message)


def _same_kind(handler: AioHandler, unary: Any, stream: Any,
               parse: Callable[[bytes], Any] | None) -> grpc.RpcMethodHandler:
    kw = {"request_deserializer": parse, "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary, **kw)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream, **kw)
    raise TypeError("tote has only unary and server-streaming RPCs")
