"""Storefront webhooks' SQL: endpoints, deliveries (fanned out, claimed, settled) and attempts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.domain.webhooks import FAILED, PENDING
from core.persistence.tables import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS
from core.persistence.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

D, E, A = WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS, WEBHOOK_ATTEMPTS


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery as the sender needs it."""

    delivery_id: int
    endpoint_id: str
    url: str
    event_id: int
    body: str


def add_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    session.add(endpoint)
    session.flush()


def endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint | None:
    return session.get(WebhookEndpoint, endpoint_id)


def endpoints(session: Session, storefronts: Iterable[str] | None) -> list[WebhookEndpoint]:
    """Endpoints of these storefronts (None: every one), oldest first."""
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.endpoint_id)
    if storefronts is not None:
        stmt = stmt.where(WebhookEndpoint.storefront.in_(list(storefronts)))
    return list(session.scalars(stmt))


def delete_endpoint(conn: Connection, endpoint_id: str) -> None:
    """The endpoint with its deliveries and their attempts (deleted explicitly: a database
    without ON DELETE CASCADE enforcement must end the same)."""
    ids = select(D.c.delivery_id).where(D.c.endpoint_id == endpoint_id)
    conn.execute(delete(A).where(A.c.delivery_id.in_(ids)))
    conn.execute(delete(D).where(D.c.endpoint_id == endpoint_id))
    conn.execute(delete(E).where(E.c.endpoint_id == endpoint_id))


def add_deliveries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert deliveries; one already there for (endpoint, event) is left as it is."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(D).on_conflict_do_nothing(
        index_elements=["endpoint_id", "event_id"]), list(rows))


def next_due(session: Session) -> datetime | None:
    """When the soonest pending delivery is due (or its claim lapses)."""
    return session.scalar(select(D.c.next_attempt_at).where(D.c.status == PENDING)
                          .order_by(D.c.next_attempt_at).limit(1))


def claim_due(conn: Connection, now: datetime, lease_until: datetime,
              limit: int) -> list[DueDelivery]:
    """Up to `limit` due deliveries of enabled endpoints, none behind an earlier pending
    delivery of the same order to the same endpoint; each leased until `lease_until` (SKIP
    LOCKED on PostgreSQL: two replicas never claim the same one)."""
    earlier = D.alias("earlier")
    waits = exists().where(earlier.c.endpoint_id == D.c.endpoint_id,
                           earlier.c.order_id == D.c.order_id,
                           earlier.c.event_id < D.c.event_id,
                           earlier.c.status == PENDING)
    rows = conn.execute(
        select(D.c.delivery_id, D.c.endpoint_id, E.c.url, D.c.event_id, D.c.body)
        .join(E, E.c.endpoint_id == D.c.endpoint_id)
        .where(D.c.status == PENDING, D.c.next_attempt_at <= now, E.c.enabled.is_(True), ~waits)
        .order_by(D.c.next_attempt_at, D.c.delivery_id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=D)
    ).all()
    ids = [r.delivery_id for r in rows]
    if ids:
        conn.execute(update(D).where(D.c.delivery_id.in_(ids))
                     .values(next_attempt_at=lease_until))
    return [DueDelivery(r.delivery_id, r.endpoint_id, r.url, r.event_id, r.body) for r in rows]


def delivery(session: Session, delivery_id: int) -> WebhookDelivery | None:
    return session.get(WebhookDelivery, delivery_id)


def add_attempt(session: Session, attempt: WebhookAttempt) -> None:
    session.add(attempt)


def fail_pending(conn: Connection, endpoint_id: str, why: str) -> int:
    """Give up every pending delivery of the endpoint; how many."""
    return int(conn.execute(update(D).where(D.c.endpoint_id == endpoint_id,
                                            D.c.status == PENDING)
                            .values(status=FAILED, next_attempt_at=None, last_error=why)
                            ).rowcount)


def retry(conn: Connection, now: datetime, *, delivery_id: int | None = None,
          endpoint_id: str | None = None, since: datetime | None = None) -> int:
    """Make one delivery, or an endpoint's failed ones created since `since`, pending and due
    now, in a new round of the retry schedule; how many."""
    stmt = update(D).values(status=PENDING, attempts=0, next_attempt_at=now,
                            round_started_at=None)
    if delivery_id is not None:
        stmt = stmt.where(D.c.delivery_id == delivery_id)
    else:
        stmt = stmt.where(D.c.endpoint_id == endpoint_id, D.c.status == FAILED)
        if since is not None:
            stmt = stmt.where(D.c.created_at >= since)
    return int(conn.execute(stmt).rowcount)


def page(session: Session, *, storefront: str | None, endpoint_id: str, order_id: str,
         status: str | None, before: int | None, size: int) -> list[WebhookDelivery]:
    """Deliveries newest first (delivery id descending), below `before`, filtered."""
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.delivery_id.desc()).limit(size)
    if storefront is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id.in_(
            select(E.c.endpoint_id).where(E.c.storefront == storefront)))
    if endpoint_id:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    if order_id:
        stmt = stmt.where(WebhookDelivery.order_id == order_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if before is not None:
        stmt = stmt.where(WebhookDelivery.delivery_id < before)
    return list(session.scalars(stmt))


def attempts_of(session: Session, delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    """Each delivery's attempts, oldest first."""
    out: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        for attempt in session.scalars(select(WebhookAttempt)
                                       .where(WebhookAttempt.delivery_id.in_(list(delivery_ids)))
                                       .order_by(WebhookAttempt.attempt_id)):
            out[attempt.delivery_id].append(attempt)
    return out

