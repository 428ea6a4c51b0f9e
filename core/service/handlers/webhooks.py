"""Storefront webhooks' commands (they answer with the webhook service's records) and their
handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.domain.webhooks import AttemptOutcome
from core.persistence.repos.webhooks import DueDelivery
from core.service import webhooks
from core.service.deps import Deps
from core.service.handlers import Handler
from core.service.webhooks import EndpointRecord


@dataclass(frozen=True, slots=True)
class CreateEndpoint(Command[EndpointRecord]):
    """Register a storefront's endpoint (its URL checked by the server first)."""

    storefront: str
    url: str
    event_types: tuple[str, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class DeleteEndpoint(Command[None]):
    endpoint_id: str
    storefront: str | None  # None: admin, any storefront's


@dataclass(frozen=True, slots=True)
class ClaimDueDeliveries(Command[list[DueDelivery]]):
    now: datetime
    lease: timedelta
    limit: int


@dataclass(frozen=True, slots=True)
class RecordAttempt(Command[str | None]):
    """One HTTP attempt of a delivery, and what follows from it (the retry schedule)."""

    delivery_id: int
    attempted_at: datetime
    outcome: AttemptOutcome
    schedule: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Redeliver(Command[tuple[int, EndpointRecord]]):
    storefront: str | None
    delivery_id: str
    endpoint_id: str
    since: datetime | None
    now: datetime


def create_endpoint(session: Session, cmd: CreateEndpoint, deps: Deps) -> EndpointRecord:
    return webhooks.create_endpoint(session, cmd.storefront, cmd.url, cmd.event_types, cmd.now)


def delete_endpoint(session: Session, cmd: DeleteEndpoint, deps: Deps) -> None:
    webhooks.delete_endpoint(session, cmd.endpoint_id, cmd.storefront)


def claim_due(session: Session, cmd: ClaimDueDeliveries, deps: Deps) -> list[DueDelivery]:
    return webhooks.claim_due(session, cmd.now, cmd.lease, cmd.limit)


def record_attempt(session: Session, cmd: RecordAttempt, deps: Deps) -> str | None:
    return webhooks.record_attempt(session, cmd.delivery_id, cmd.attempted_at, cmd.outcome,
                                   cmd.schedule)


def redeliver(session: Session, cmd: Redeliver, deps: Deps) -> tuple[int, EndpointRecord]:
    return webhooks.redeliver(session, cmd.storefront, cmd.delivery_id, cmd.endpoint_id,
                              cmd.since, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    CreateEndpoint: create_endpoint,
    DeleteEndpoint: delete_endpoint,
    ClaimDueDeliveries: claim_due,
    RecordAttempt: record_attempt,
    Redeliver: redeliver,
}
