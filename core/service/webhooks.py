"""Storefront webhooks' use cases: endpoints, the outbox's fan-out into deliveries, claiming
due deliveries and recording each attempt, listing and redelivering.

Nothing here calls out: server/storefront_hooks.py sends what `claim_due` hands it and records
each attempt with `record_attempt`.

The rules (docs/operations.md, "Storefront webhooks"):
- A delivery is attempted at once, then after each delay of the retry schedule; after the
  last delay's attempt fails it is FAILED.
- Events of one order reach an endpoint in order: a delivery waits while an earlier delivery of
  the same order to the same endpoint is pending (repos/webhooks.claim_due).
- An endpoint is disabled when a delivery fails its whole schedule and the endpoint answered
  no attempt with a 2xx since that delivery's first attempt (everything failed for the whole
  schedule), or at once when it answers 410 Gone. Its pending deliveries fail with it, and
  events fanned out while it is disabled are recorded FAILED: a Redeliver (which enables the
  endpoint again) sends them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.domain.errors import InvalidArgument, NotFound, PermissionDenied
from core.domain.events import EventType
from core.domain.ids import new_id
from core.domain.webhooks import (
    DELIVERED,
    FAILED,
    PENDING,
    AttemptOutcome,
    describe,
)
from core.persistence.models import OrderEvent
from core.persistence.repos import webhooks as repo
from core.persistence.repos.webhooks import DueDelivery
from core.persistence.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.service import orders
from core.service.webhook_body import body, order_json

MAX_URL = 2048
EVENT_TYPES = frozenset(t.value for t in EventType)


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    endpoint_id: str
    storefront: str
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    disabled_reason: str
    disabled_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    attempted_at: datetime
    http_status: int
    error: str
    latency_ms: int


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    delivery_id: int
    endpoint_id: str
    event_id: int
    order_id: str
    event_type: str
    status: str
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: tuple[AttemptRecord, ...]


def _record(e: WebhookEndpoint) -> EndpointRecord:
    return EndpointRecord(e.endpoint_id, e.storefront, e.url, tuple(e.event_types), e.enabled,
                          e.disabled_reason, e.disabled_at, e.created_at)


def check_event_types(types: Sequence[str]) -> tuple[str, ...]:
    """The types asked for, each an OrderEvent.type (docs/API.md, "Order events")."""
    if len(types) > 2 * len(EVENT_TYPES):
        raise InvalidArgument(f"event_types: at most {len(EVENT_TYPES)} types (there are no "
                              "more)", field="event_types")
    unknown = sorted(set(types) - EVENT_TYPES)
    if unknown:
        raise InvalidArgument(f"event_types: {', '.join(repr(t[:64]) for t in unknown[:5])} "
                              "is not an order event type (docs/API.md, \"Order events\")",
                              field="event_types")
    return tuple(dict.fromkeys(types))


def create_endpoint(session: Session, storefront: str, url: str, event_types: Sequence[str],
                    now: datetime) -> EndpointRecord:
    """Register an endpoint (its URL already checked by the server: scheme, host, address)."""
    if not storefront:
        raise InvalidArgument("storefront is required: the storefront whose orders' events the "
                              "endpoint receives", field="storefront")
    if not url or len(url) > MAX_URL:
        raise InvalidArgument(f"url must be 1 to {MAX_URL} characters", field="url")
    endpoint = WebhookEndpoint(
        endpoint_id=new_id("we"), storefront=storefront, url=url,
        event_types=list(check_event_types(event_types)), enabled=True, disabled_reason="",
        disabled_at=None, last_success_at=None, created_at=now)
    repo.add_endpoint(session, endpoint)
    return _record(endpoint)


def _own(session: Session, endpoint_id: str, storefront: str | None) -> WebhookEndpoint:
    """The endpoint, if the caller may see it (another storefront's is NOT_FOUND)."""
    endpoint = repo.endpoint(session, endpoint_id) if endpoint_id else None
    if endpoint is None or (storefront is not None and endpoint.storefront != storefront):
        raise NotFound(f"no webhook endpoint {endpoint_id[:64]!r}")
    return endpoint


def list_endpoints(session: Session, storefront: str | None) -> list[EndpointRecord]:
    return [_record(e) for e in repo.endpoints(
        session, None if storefront is None else [storefront])]


def delete_endpoint(session: Session, endpoint_id: str, storefront: str | None) -> None:
    _own(session, endpoint_id, storefront)
    session.expunge_all()  # rows deleted by SQL below: no stale instances left to flush
    repo.delete_endpoint(session.connection(), endpoint_id)


def fan_out(session: Session, events: Sequence[OrderEvent], now: datetime) -> None:
    """The outbox's table consumer: one delivery per event and endpoint of the event's
    storefront subscribed to its type. Idempotent ((endpoint, event) is unique); no call out.

    The body is made here, so a storefront gets the order as it was when the event was
    fanned out (a moment after it happened), the same on every attempt.
    """
    storefronts = {e.storefront for e in events}
    if not storefronts:
        return
    by_storefront: dict[str, list[WebhookEndpoint]] = {}
    for endpoint in repo.endpoints(session, storefronts):
        by_storefront.setdefault(endpoint.storefront, []).append(endpoint)
    if not by_storefront:
        return
    order_of: dict[str, dict[str, Any] | None] = {}
    rows = []
    for event in events:
        targets = [ep for ep in by_storefront.get(event.storefront, ())
                   if not ep.event_types or event.type in ep.event_types]
        if not targets:
            continue
        if event.order_id not in order_of:
            try:
                order_of[event.order_id] = order_json(orders.load(session, event.order_id))
            except NotFound:
                order_of[event.order_id] = None
        order = order_of[event.order_id]
        if order is None:
            continue  # (an event of no order: nothing a storefront could be told)
        text = body(event, order)
        for ep in targets:
            rows.append({
                "endpoint_id": ep.endpoint_id, "event_id": event.event_id,
                "order_id": event.order_id, "event_type": event.type,
                "status": PENDING if ep.enabled else FAILED,
                "attempts": 0, "next_attempt_at": now if ep.enabled else None,
                "round_started_at": None, "last_status": None,
                "last_error": "" if ep.enabled else "the endpoint is disabled",
                "body": text, "created_at": now})
    repo.add_deliveries(session.connection(), rows)


def next_due(session: Session) -> datetime | None:
    """When the sender should look again (None: nothing pending)."""
    return repo.next_due(session)


def claim_due(session: Session, now: datetime, lease: timedelta,
              limit: int) -> list[DueDelivery]:
    """Take due deliveries to send, each leased for `lease` (its attempt must be recorded
    within it, or another sender may take it: at least once, never twice at once)."""
    return repo.claim_due(session.connection(), now, now + lease, limit)


def record_attempt(session: Session, delivery_id: int, attempted_at: datetime,
                   outcome: AttemptOutcome, schedule: tuple[float, ...]) -> str | None:
    """Record one attempt and decide what follows; the delivery's status after it (None: the
    delivery is gone, its endpoint deleted meanwhile)."""
    d = repo.delivery(session, delivery_id)
    if d is None:
        return None
    repo.add_attempt(session, WebhookAttempt(
        delivery_id=delivery_id, attempted_at=attempted_at, http_status=outcome.http_status,
        error=outcome.error[:2000], latency_ms=outcome.latency_ms))
    endpoint = repo.endpoint(session, d.endpoint_id)
    assert endpoint is not None  # (a delivery's endpoint is deleted with it)
    d.last_status = outcome.http_status or None
    d.last_error = outcome.error[:2000]
    if outcome.delivered:
        d.status, d.next_attempt_at = DELIVERED, None
        endpoint.last_success_at = attempted_at
        return d.status
    if d.status != PENDING:
        return d.status  # failed meanwhile (the endpoint disabled): the attempt is history
    if d.attempts == 0 or d.round_started_at is None:
        d.round_started_at = attempted_at
    d.attempts += 1
    if outcome.gone:
        _fail(d)
        _disable(session, endpoint, attempted_at, "the endpoint answered 410 Gone")
    elif d.attempts > len(schedule):
        _fail(d)
        if endpoint.last_success_at is None or endpoint.last_success_at < d.round_started_at:
            _disable(session, endpoint, attempted_at,
                     f"every attempt failed since {d.round_started_at:%Y-%m-%dT%H:%M:%SZ}: "
                     f"event {d.event_id} was tried {d.attempts} times (the whole retry "
                     f"schedule), the last answer {describe(outcome)}")
    else:
        d.next_attempt_at = attempted_at + timedelta(seconds=schedule[d.attempts - 1])
    return d.status


def _fail(d: WebhookDelivery) -> None:
    d.status, d.next_attempt_at = FAILED, None


def _disable(session: Session, endpoint: WebhookEndpoint, now: datetime, why: str) -> None:
    if endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = False, why, now
    session.flush()
    repo.fail_pending(session.connection(), endpoint.endpoint_id,
                      f"the endpoint was disabled: {why}")
    session.expire_all()


def redeliver(session: Session, storefront: str | None, delivery_id: str, endpoint_id: str,
              since: datetime | None, now: datetime) -> tuple[int, EndpointRecord]:
    """Make one delivery, or an endpoint's failed ones since `since`, pending and due now; a
    disabled endpoint is enabled again (the storefront says it is fixed)."""
    if bool(delivery_id) == bool(endpoint_id):
        raise InvalidArgument("pass delivery_id (one delivery) or endpoint_id (its failed "
                              "deliveries since `since`), not both nor neither")
    one: int | None = None
    if delivery_id:
        one = _delivery_id(delivery_id)
        d = repo.delivery(session, one)
        if d is None:
            raise NotFound(f"no webhook delivery {delivery_id[:64]!r}")
        endpoint_id = d.endpoint_id
        if storefront is not None and _own_or_none(session, endpoint_id, storefront) is None:
            raise NotFound(f"no webhook delivery {delivery_id[:64]!r}")
    endpoint = _own(session, endpoint_id, storefront)
    if not endpoint.enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, "", None
    record = _record(endpoint)
    session.flush()
    session.expunge_all()
    count = repo.retry(session.connection(), now, delivery_id=one,
                       endpoint_id=endpoint_id, since=since)
    return count, record


def _own_or_none(session: Session, endpoint_id: str, storefront: str) -> WebhookEndpoint | None:
    endpoint = repo.endpoint(session, endpoint_id)
    return endpoint if endpoint is not None and endpoint.storefront == storefront else None


def _delivery_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) >= 2**63:
        raise InvalidArgument("delivery_id must be a delivery_id ListDeliveries gave",
                              field="delivery_id")
    return int(text)


def list_deliveries(session: Session, *, storefront: str | None, endpoint_id: str,
                    order_id: str, status: str | None, page_size: int,
                    page_token: str) -> tuple[list[DeliveryRecord], str]:
    """Deliveries newest first with their attempts; a keyset page token (as ListOrders')."""
    if page_size < 0:
        raise InvalidArgument("page_size must not be negative", field="page_size")
    if endpoint_id:
        _own(session, endpoint_id, storefront)
    size = min(page_size or 50, 500)
    scope = hashlib.blake2b("\x1f".join((storefront or "*", endpoint_id, order_id,
                                         status or "")).encode(), digest_size=6).hexdigest()
    rows = repo.page(session, storefront=storefront, endpoint_id=endpoint_id,
                     order_id=order_id, status=status,
                     before=_cursor(page_token, scope) if page_token else None, size=size + 1)
    token = ""
    if len(rows) > size:
        rows = rows[:size]
        token = base64.urlsafe_b64encode(
            f"d1.{scope}.{rows[-1].delivery_id}".encode()).decode()
    attempts = repo.attempts_of(session, [d.delivery_id for d in rows])
    return [DeliveryRecord(
        d.delivery_id, d.endpoint_id, d.event_id, d.order_id, d.event_type, d.status,
        d.created_at, d.next_attempt_at,
        tuple(AttemptRecord(a.attempted_at, a.http_status, a.error, a.latency_ms)
              for a in attempts[d.delivery_id])) for d in rows], token


_BAD_TOKEN = ("page_token is not one this server gave out: pass the next_page_token of the "
              "previous reply")


def _cursor(page_token: str, scope: str) -> int:
    try:
        text = base64.b64decode(page_token.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeError):
        text = ""
    version, _, rest = text.partition(".")
    given, _, after = rest.partition(".")
    if version != "d1" or not after.isdigit() or not after.isascii() or len(after) > 19:
        raise InvalidArgument(_BAD_TOKEN, field="page_token")
    if given != scope:
        raise InvalidArgument("page_token was given for another listing (other filters): "
                              "start again without it", field="page_token")
    return int(after)


def endpoint_of_storefront(session: Session, endpoint_id: str,
                           storefront: str | None) -> EndpointRecord:
    """One endpoint the caller may see."""
    return _record(_own(session, endpoint_id, storefront))


def refuse_other_storefront(caller: str | None, asked: str) -> str | None:
    """The storefront a call acts for: a storefront token its own (asking for another is
    PERMISSION_DENIED), admin the one asked for (None: all)."""
    if caller is None:
        return asked or None
    if asked and asked != caller:
        raise PermissionDenied("a storefront token acts for its own storefront only")
    return caller
