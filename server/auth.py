"""Bearer-token authentication, role checks and domain-error mapping: one interceptor.

Every RPC but health and reflection needs `authorization: Bearer <token>`. The roles allowed
per RPC are the table below (API.md); admin may do everything. A revoked or expired token is
refused (UNAUTHENTICATED), and a token over its rate limit gets RESOURCE_EXHAUSTED with
`retry-after-ms` in the trailing metadata (server/throttle.py; per replica).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import grpc
from grpc import aio

from core.domain.errors import DomainError
from core.service.tokens import (
    Principal,
    TokenRecord,
    lookup_token,
    revocation_mark,
    revoked_ids,
)
from server.dbexec import DbExecutor
from server.decode import Refused, safe_parser
from server.errors import code_for
from server.throttle import RETRY_AFTER_KEY, TokenBucket

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
    # Customer notifications: a storefront keeps its customers' opt-outs and reads its orders'
    # messages; dead letters and their resend are the supervisor's.
    **{f"/tote.v1.NotificationService/{m}": frozenset({S, V}) for m in (
        "SetPreferences", "GetPreferences", "ListMessages")},
    **{f"/tote.v1.NotificationService/{m}": frozenset({V}) for m in (
        "ListDeadLetters", "Resend")},
    # Storefront webhooks: a storefront's own endpoints (admin: any storefront's).
    **{f"/tote.v1.WebhookService/{m}": frozenset({S}) for m in (
        "CreateEndpoint", "ListEndpoints", "DeleteEndpoint", "ListDeliveries", "Redeliver")},
}
PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


def current_principal() -> Principal:
    return PRINCIPAL.get()


def storefront_scope() -> str | None:
    """The storefront whose orders the caller may see; None for roles that see every order."""
    p = PRINCIPAL.get()
    return p.name if p.role == S else None


class _Entry:
    """A token as the hot path needs it: who, until when, refused why, and its bucket."""

    __slots__ = ("principal", "expires", "expires_text", "refusal", "bucket")

    def __init__(self, record: TokenRecord, default_rate: tuple[float, int] | None,
                 now: float) -> None:
        self.principal = record.principal
        expires = record.expires_at
        self.expires = expires.timestamp() if expires is not None else math.inf
        self.expires_text = _when(expires) if expires is not None else ""
        self.refusal = (f"token revoked at {_when(record.revoked_at)}; {NEW_TOKEN}"
                        if record.revoked_at is not None else None)
        rps, burst = record.rate_limit or default_rate or (0.0, 0)
        self.bucket = TokenBucket(rps, burst, now) if rps > 0 else None


class TokenCache:
    """Tokens cached so that auth costs no query per call, yet a revocation reaches every
    replica within a second: a watcher polls the revocation mark (count and latest of
    revoked_at) every poll_s, off the call path, and drops the tokens revoked since. Expiry
    rides in each entry. Should the watcher fall behind (the database unreachable), entries
    are not trusted after stale_s and every call asks the database again."""

    def __init__(self, dbx: DbExecutor, rate_limit: tuple[float, int] | None = None,
                 poll_s: float = 0.5, stale_s: float = 3.0) -> None:
        self._dbx = dbx
        self._rate = rate_limit
        self._poll_s, self._stale_s = poll_s, stale_s
        self._cache: dict[str, _Entry] = {}
        self._unknown: dict[str, float] = {}  # token → until when "unknown" is believed
        self._checked = -math.inf  # monotonic time of the watcher's last good poll
        self._mark: tuple[int, Any] | None = None
        self._generation = 0  # bumped by every eviction: a lookup begun before it is not kept
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._mark = await self._dbx.read(revocation_mark)
        self._checked = time.monotonic()
        self._task = asyncio.create_task(self._watch(), name="token-revocations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                mark = await self._dbx.read(revocation_mark)
                if mark != self._mark:
                    revoked = await self._dbx.read(revoked_ids)
                    self._generation += 1
                    for token in [t for t, e in self._cache.items()
                                  if e.principal.token_id in revoked]:
                        del self._cache[token]
                    self._mark = mark
                self._checked = time.monotonic()
                failing = False
            except Exception as exc:
                if not failing:  # once per outage, not twice a second
                    log.warning("cannot read token revocations; every call asks the database "
                                "until it answers", exc_info=not isinstance(exc, DomainError))
                failing = True

    async def lookup(self, token: str) -> _Entry | None:
        # Keyed by the token itself (in memory only, like the request that carried it): a
        # SHA-256 per call was a measurable share of a ScanItem's time.
        now = time.monotonic()
        if now - self._checked < self._stale_s:
            entry = self._cache.get(token)
            if entry is not None:
                return entry
            until = self._unknown.get(token)
            if until is not None and until > now:
                return None
        generation = self._generation
        record = await self._dbx.read(lookup_token, token)
        if record is None:
            if len(self._unknown) > 10_000:
                self._unknown.clear()
            self._unknown[token] = now + 2.0
            return None
        old = self._cache.get(token)
        entry = _Entry(record, self._rate, now)
        if old is not None and old.principal == entry.principal:
            entry.bucket = old.bucket or entry.bucket  # a re-read keeps the caller's bucket
        if generation == self._generation:  # else a revocation may have raced this read
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = entry
        return entry


NEW_TOKEN = "create a new one with `tote token create --role ROLE`"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else "?"


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
        # once, not per call. A revoked token is refused before this cache is consulted, so
        # its entries are never used again; the bound keeps them from piling up.
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
        try:
            entry = await self._tokens.lookup(token) if token else None
        except DomainError as exc:  # the database unreachable: UNAVAILABLE, saying so
            return _refuse(handler, code_for(exc), f"cannot check the token: {exc.message}")
        except Exception as exc:
            # Neither the answer nor the log gets the exception's text: it holds the query
            # and its parameters, the token's hash among them.
            log.error("token lookup failed for %s: %s", method, type(exc).__name__)
            return _refuse(handler, grpc.StatusCode.INTERNAL,
                           "internal error; the server log has the details")
        if entry is None:
            why = ("missing 'authorization: Bearer <token>' metadata" if token is None
                   else "unknown token")
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED,
                           f"{why}; create one with `tote token create --role ROLE`")
        if entry.refusal is not None:
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED, entry.refusal)
        if entry.expires <= time.time():
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED,
                           f"token expired at {entry.expires_text}; {NEW_TOKEN}")
        principal = entry.principal
        allowed = ROLES.get(method)
        if principal.role != "admin" and (allowed is None or principal.role not in allowed):
            who = ", ".join(sorted(allowed or ())) or "admin"
            return _refuse(handler, grpc.StatusCode.PERMISSION_DENIED,
                           f"role {principal.role!r} may not call {method}; allowed: {who}")
        bucket = entry.bucket
        if bucket is not None:
            wait_s = bucket.take(time.monotonic())
            if wait_s:
                return _throttled(handler, bucket, wait_s)
        key = (method, principal)
        hit = self._wrapped.get(key)
        if hit is not None and hit[0] is handler:
            return hit[1]
        if len(self._wrapped) >= 10_000:
            self._wrapped.clear()
        wrapped = _wrap(handler, principal, method)
        self._wrapped[key] = (handler, wrapped)
        return wrapped


def _throttled(handler: AioHandler, bucket: TokenBucket, wait_s: float):
    """RESOURCE_EXHAUSTED, with the delay after which a call will be let through."""
    ms = max(1, math.ceil(wait_s * 1000))
    return _refuse(handler, grpc.StatusCode.RESOURCE_EXHAUSTED,
                   f"rate limit: this token may make {bucket.rps:g} calls a second "
                   f"(bursts of {bucket.burst}); retry in {ms} ms",
                   ((RETRY_AFTER_KEY, str(ms)),))


def _refuse(handler: AioHandler, code: grpc.StatusCode, message: str,
            trailers: tuple[tuple[str, str], ...] = ()):
    """A handler that answers `code` whatever the request (which is never parsed)."""

    async def unary(request: Any, context: aio.ServicerContext) -> Any:
        await context.abort(code, message, trailers)

    async def stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
        await context.abort(code, message, trailers)
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
