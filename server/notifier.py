"""The notification sender: claims due customer messages, sends them, records each outcome.

A message is marked "sending" (durably, with this replica as holder and a lease) in the claim's
own transaction before the SMTP or SMS call; the answer is recorded right after it: sent, or
queued again after the retry schedule's next delay, or dead after its last attempt. Replicas
claim different rows (PostgreSQL: FOR UPDATE SKIP LOCKED); a message whose holder died while
"sending" is taken again once its lease lapses. That is the one way a message can go twice: the
provider accepted it and the replica died before its "sent" committed (docs/operations.md,
"Customer notifications"); the window is one commit long, and the SMS provider is given the
message id as its idempotency key, the email the message id as its Message-ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from core.domain.errors import Unavailable
from core.persistence.models import utcnow
from core.persistence.repos.notifications import MessageRecord
from core.service import notifications
from core.service.handlers.notifications import (
    ClaimDueMessages,
    RecordMessageFailed,
    RecordMessageSent,
    RecordMessageSkipped,
)
from server.adapters.mail import SendFailed, SmsClient, SmtpSender
from server.dbexec import DbExecutor
from server.leases import REPLICA_ID
from server.notify_render import Templates
from server.settings import NotifySettings

log = logging.getLogger(__name__)

class Notifier:
    """The sender worker of `tote serve` (start/stop), woken after commits and every interval."""

    name = "notification sender"

    def __init__(self, dbx: DbExecutor, settings: NotifySettings, lease: timedelta,
                 holder: str = REPLICA_ID,
                 on_sent: Callable[[MessageRecord], None] | None = None) -> None:
        self._dbx, self._settings, self._lease, self._holder = dbx, settings, lease, holder
        self._templates = Templates(settings.templates_dir, settings.tracking_link)
        self._smtp = (SmtpSender(settings.smtp_url, settings.mail_from, settings.smtp_password)
                      if settings.smtp_url else None)
        self._sms = SmsClient(settings.sms_url) if settings.sms_url else None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.on_sent = on_sent

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="notification-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sms is not None:
            await self._sms.aclose()

    async def _forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.interval_s)
            self._wake.clear()
            try:
                while await self.send_due() >= self._settings.batch:
                    pass  # a full batch: more may be due at once
            except Unavailable as exc:
                log.warning("notifications must wait: %s", exc.message)
            except Exception:  # a bad pass must not end sending for good
                log.exception("notification pass failed; next pass in %.1f s",
                              self._settings.interval_s)

    async def send_due(self) -> int:
        """Claim the due messages and send them; returns how many were claimed."""
        # A read first: woken after every commit, the sender must not cost a write each time.
        if not await self._dbx.read(notifications.any_due, utcnow()):
            return 0
        claimed = await self._dbx.execute(ClaimDueMessages(
            self._holder, utcnow(), self._lease, self._settings.batch))
        if claimed:
            await asyncio.gather(*(self._send_one(m) for m in claimed))
        return len(claimed)

    def _retry_at(self, attempts: int) -> timedelta | None:
        schedule: Sequence[float] = self._settings.retry_schedule
        # attempts counts this one: after attempt n the delay is schedule[n-1]; none left: dead
        if attempts > len(schedule):
            return None
        return timedelta(seconds=schedule[attempts - 1])

    async def _send_one(self, message: MessageRecord) -> None:
        if not await self._dbx.read(notifications.still_wanted, message):
            await self._dbx.execute(RecordMessageSkipped(message.message_id, self._holder))
            return
        try:
            facts = await self._dbx.read(notifications.message_facts, message.order_id)
            kind = notifications.KINDS[message.event_type]
            rendered = self._templates.render(kind, message, facts)
            if message.channel == notifications.EMAIL:
                if self._smtp is None:
                    raise SendFailed("no --smtp-url: email is not configured")
                await self._smtp.send(message.recipient, rendered.subject, rendered.text,
                                      rendered.html, message.message_id)
            else:
                if self._sms is None:
                    raise SendFailed("no --sms-url: SMS is not configured")
                await self._sms.send(message.recipient, rendered.text, message.message_id)
        except Exception as exc:  # this attempt failed, whatever the cause: retry or dead
            delay = self._retry_at(message.attempts)
            error = str(exc) if isinstance(exc, SendFailed) else f"{type(exc).__name__}: {exc}"
            retry_at = utcnow() + delay if delay is not None else None
            log.warning("%s message %s for order %s, attempt %d failed (%s); %s",
                        message.channel, message.message_id, message.order_id,
                        message.attempts, error[:200],
                        f"retrying in {delay.total_seconds():.0f} s" if delay else
                        "a dead letter now")
            await self._dbx.execute(RecordMessageFailed(message.message_id, self._holder,
                                                        error, retry_at))
            return
        await self._dbx.execute(RecordMessageSent(message.message_id, self._holder,
                                                  rendered.subject, rendered.text, utcnow()))
        if self.on_sent is not None:
            self.on_sent(message)
