"""WebhookService: a storefront's webhook endpoints and their deliveries (thin: each RPC is a
command or a query of core/service/webhooks.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from grpc import aio

from core.domain.errors import FailedPrecondition, InvalidArgument
from core.domain.webhooks import DELIVERED, FAILED, PENDING
from core.service import webhooks
from core.service.handlers.webhooks import CreateEndpoint, DeleteEndpoint, Redeliver
from core.service.webhooks import DeliveryRecord, EndpointRecord
from server import hook_http
from server.auth import storefront_scope
from server.convert import ts
from server.dbexec import DbExecutor, utcnow
from server.storefront_hooks import endpoint_secret, shown_secret
from tote.v1 import webhooks_pb2 as pb
from tote.v1 import webhooks_pb2_grpc

_STATUS = {PENDING: pb.WEBHOOK_DELIVERY_STATUS_PENDING,
           DELIVERED: pb.WEBHOOK_DELIVERY_STATUS_DELIVERED,
           FAILED: pb.WEBHOOK_DELIVERY_STATUS_FAILED}
_STATUS_OF = {v: k for k, v in _STATUS.items()}
NO_KEY = ("storefront webhooks are off: this server has no webhook signing key; start tote "
          "serve with --webhook-signing-key-file FILE (or TOTE_WEBHOOK_SIGNING_KEY), FILE "
          "holding a random secret of at least 32 characters on one line")


def endpoint_to_pb(e: EndpointRecord) -> pb.WebhookEndpoint:
    return pb.WebhookEndpoint(
        endpoint_id=e.endpoint_id, storefront=e.storefront, url=e.url,
        event_types=list(e.event_types), enabled=e.enabled, disabled_reason=e.disabled_reason,
        disabled_at=ts(e.disabled_at), created_at=ts(e.created_at))


def delivery_to_pb(d: DeliveryRecord) -> pb.WebhookDelivery:
    return pb.WebhookDelivery(
        delivery_id=str(d.delivery_id), endpoint_id=d.endpoint_id, event_id=str(d.event_id),
        order_id=d.order_id, event_type=d.event_type, status=_STATUS[d.status],
        created_at=ts(d.created_at),
        next_attempt_at=ts(d.next_attempt_at) if d.status == PENDING else None,
        attempts=[pb.WebhookAttempt(attempted_at=ts(a.attempted_at), http_status=a.http_status,
                                    error=a.error, latency_ms=a.latency_ms)
                  for a in d.attempts])


class WebhookServicer(webhooks_pb2_grpc.WebhookServiceServicer):
    def __init__(self, dbx: DbExecutor, signing_key: bytes | None, allow_private: bool,
                 wake: Callable[[], None] | None = None) -> None:
        self._dbx, self._key, self._allow_private = dbx, signing_key, allow_private
        self._wake = wake or (lambda: None)

    async def CreateEndpoint(self, request: pb.CreateEndpointRequest,
                             context: aio.ServicerContext) -> pb.CreateEndpointResponse:
        if self._key is None:
            raise FailedPrecondition(NO_KEY)
        storefront = webhooks.refuse_other_storefront(storefront_scope(), request.storefront)
        if storefront is None:
            raise InvalidArgument("storefront is required with an admin token: the storefront "
                                  "whose orders' events the endpoint receives",
                                  field="storefront")
        webhooks.check_event_types(request.event_types)
        try:
            await hook_http.resolve(request.url, self._allow_private)
        except hook_http.RefusedUrl as exc:
            raise InvalidArgument(str(exc), field="url") from None
        record = await self._dbx.execute(CreateEndpoint(
            storefront, request.url, tuple(request.event_types), utcnow()))
        return pb.CreateEndpointResponse(
            endpoint=endpoint_to_pb(record),
            secret=shown_secret(endpoint_secret(self._key, record.endpoint_id)))

    async def ListEndpoints(self, request: pb.ListEndpointsRequest,
                            context: aio.ServicerContext) -> pb.ListEndpointsResponse:
        storefront = webhooks.refuse_other_storefront(storefront_scope(), request.storefront)
        records = await self._dbx.read(webhooks.list_endpoints, storefront)
        return pb.ListEndpointsResponse(endpoints=[endpoint_to_pb(e) for e in records])

    async def DeleteEndpoint(self, request: pb.DeleteEndpointRequest,
                             context: aio.ServicerContext) -> pb.DeleteEndpointResponse:
        await self._dbx.execute(DeleteEndpoint(request.endpoint_id, storefront_scope()))
        return pb.DeleteEndpointResponse()

    async def ListDeliveries(self, request: pb.ListDeliveriesRequest,
                             context: aio.ServicerContext) -> pb.ListDeliveriesResponse:
        if request.status and request.status not in _STATUS_OF:
            raise InvalidArgument(f"status {request.status} is not a WebhookDeliveryStatus",
                                  field="status")
        records, token = await self._dbx.read(
            webhooks.list_deliveries, storefront=storefront_scope(),
            endpoint_id=request.endpoint_id, order_id=request.order_id,
            status=_STATUS_OF.get(request.status), page_size=request.page_size,
            page_token=request.page_token)
        return pb.ListDeliveriesResponse(deliveries=[delivery_to_pb(d) for d in records],
                                         next_page_token=token)

    async def Redeliver(self, request: pb.RedeliverRequest,
                        context: aio.ServicerContext) -> pb.RedeliverResponse:
        since = None
        if request.HasField("since"):
            try:
                since = request.since.ToDatetime(tzinfo=UTC)
            except (ValueError, OverflowError, OSError):
                raise InvalidArgument("since is not a time tote can read",
                                      field="since") from None
        count, record = await self._dbx.execute(Redeliver(
            storefront_scope(), request.delivery_id, request.endpoint_id, since, utcnow()))
        self._wake()
        return pb.RedeliverResponse(redelivered=count, endpoint=endpoint_to_pb(record))
