"""Commands of customer notifications (the sender's claims and outcomes, resends, opt-outs)
and their handlers. They live beside their handlers: they answer with the service's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.domain.commands import Command
from core.persistence.repos.notifications import MessageRecord
from core.service import notifications
from core.service.deps import Deps
from core.service.handlers import Handler
from core.service.notifications import Preferences


@dataclass(frozen=True, slots=True)
class ClaimDueMessages(Command[list[MessageRecord]]):
    """Mark up to `limit` due messages as sending for `holder` until now + lease."""

    holder: str
    now: datetime
    lease: timedelta
    limit: int


@dataclass(frozen=True, slots=True)
class RecordMessageSent(Command[bool]):
    """The provider accepted the message: sent, with what was sent (False: not ours any more)."""

    message_id: str
    holder: str
    subject: str
    body: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RecordMessageFailed(Command[bool]):
    """An attempt failed: retried at `retry_at`, or dead when None."""

    message_id: str
    holder: str
    error: str
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class RecordMessageSkipped(Command[bool]):
    """The customer opted out of the channel after the message was queued."""

    message_id: str
    holder: str


@dataclass(frozen=True, slots=True)
class ResendMessage(Command[MessageRecord]):
    message_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class SetNotificationPreferences(Command[Preferences]):
    preferences: Preferences
    now: datetime


def claim(session: Session, cmd: ClaimDueMessages, deps: Deps) -> list[MessageRecord]:
    return notifications.claim_due(session, cmd.holder, cmd.now, cmd.lease, cmd.limit)


def sent(session: Session, cmd: RecordMessageSent, deps: Deps) -> bool:
    return notifications.record_sent(session, cmd.message_id, cmd.holder, cmd.subject,
                                     cmd.body, cmd.now)


def failed(session: Session, cmd: RecordMessageFailed, deps: Deps) -> bool:
    return notifications.record_failure(session, cmd.message_id, cmd.holder, cmd.error,
                                        cmd.retry_at)


def skipped(session: Session, cmd: RecordMessageSkipped, deps: Deps) -> bool:
    return notifications.record_skipped(session, cmd.message_id, cmd.holder)


def resend(session: Session, cmd: ResendMessage, deps: Deps) -> MessageRecord:
    return notifications.resend(session, cmd.message_id, cmd.now)


def set_preferences(session: Session, cmd: SetNotificationPreferences, deps: Deps
                    ) -> Preferences:
    return notifications.set_preferences(session, cmd.preferences, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    ClaimDueMessages: claim,
    RecordMessageSent: sent,
    RecordMessageFailed: failed,
    RecordMessageSkipped: skipped,
    ResendMessage: resend,
    SetNotificationPreferences: set_preferences,
}
