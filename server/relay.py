"""The outbox relayed to NATS JetStream (`tote serve --nats-url`): the message broker.

Every event is published to the stream TOTE_EVENTS (created when missing, subjects
`tote.v1.events.>`) on `tote.v1.events.<type>`, its payload the tote.v1.OrderEvent in
protobuf's JSON mapping (proto field names), with the headers `Nats-Msg-Id: <event_id>`
(JetStream drops a duplicate inside the stream's de-duplication window) and `Tote-Order-Id`.

The relay is an outbox consumer with a durable position (server/outbox.py): it reads the
events after it, publishes them, awaits JetStream's acknowledgements, and only then moves the
position (at least once; the broker and, beyond its window, subscribers de-duplicate by event
id). Order per order is kept: several publishes are in flight, but never two of one order —
a batch goes out in waves, the n-th event of each order in wave n, each wave acknowledged
before the next is sent. NATS away or restarted: tote takes orders as before, the relay
retries with backoff and catches up from its position.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client as Nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from core.domain.outbox_commands import MoveConsumerPosition
from core.persistence.models import OrderEvent, utcnow
from core.service import outbox
from server import convert
from server.dbexec import DbExecutor
from server.outbox import ConsumerWorker

log = logging.getLogger(__name__)

STREAM = "TOTE_EVENTS"
SUBJECTS = "tote.v1.events.>"
SUBJECT_PREFIX = "tote.v1.events."


def redacted(url: str) -> str:
    """The NATS URL(s) without user, password or token: what logs may show."""
    shown = []
    for one in url.split(","):
        parts = urlsplit(one.strip())
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        shown.append(urlunsplit((parts.scheme, netloc, parts.path, "", "")))
    return ",".join(shown)


class NatsRelay(ConsumerWorker):
    """Publishes the outbox to JetStream, batch after batch, from its durable position."""

    ACK_TIMEOUT_S = 5.0
    BACKOFF_S = (0.2, 5.0)  # the first retry's pause, and the longest

    def __init__(self, dbx: DbExecutor, url: str, interval_s: float, lease: timedelta,
                 batch_events: int = 1000) -> None:
        super().__init__(dbx, outbox.NATS_RELAY, interval_s, lease)
        self.name = "NATS relay"
        self._url, self._limit = url, batch_events
        self._nc: Nats | None = None
        self._js: JetStreamContext | None = None
        self._closed = asyncio.Event()
        self._backoff = 0.0
        self.published = 0  # events acknowledged by JetStream (this process)

    async def stop(self) -> None:
        await super().stop()
        await self._disconnect()

    async def batch(self) -> bool:
        try:
            js = await self._connected()
            more = await self._relay(js)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # NATS away, slow, or refusing: try again after a pause
            await self._failed(exc)
            return False
        if self._backoff:
            log.info("NATS relay: publishing again to %s", redacted(self._url))
        self._backoff = 0.0
        return more

    async def _relay(self, js: JetStreamContext) -> bool:
        batch = await self._dbx.read(outbox.pending, self.consumer, self.gaps, self._limit)
        self.gaps = batch.gaps
        if batch.events:
            await self._publish(js, batch.events)
        if batch.upto != batch.position:
            moved = await self._dbx.execute(
                MoveConsumerPosition(self.consumer, batch.position, batch.upto, utcnow()))
            if not moved:  # another replica moved it (a lease handover): read it again
                self.position = None
                return True
        self._at(batch.upto, batch.newest)
        return batch.more

    async def _publish(self, js: JetStreamContext, events: list[OrderEvent]) -> None:
        """Publish in waves (never two events of one order in flight), each acknowledged
        before the next; raises if NATS went away or did not answer in time."""
        waves: list[list[OrderEvent]] = []
        seen: dict[str, int] = {}
        for event in events:
            n = seen.get(event.order_id, 0)
            seen[event.order_id] = n + 1
            if n == len(waves):
                waves.append([])
            waves[n].append(event)
        for wave in waves:
            acks = []
            for event in wave:  # sent in id order on the one connection
                acks.append(await js.publish_async(
                    SUBJECT_PREFIX + event.type, convert.event_json(event),
                    headers={"Nats-Msg-Id": str(event.event_id),
                             "Tote-Order-Id": event.order_id}))
            await self._acknowledged(acks)
            now = time.time()
            self.published += len(wave)
            if self.metrics is not None:
                for event in wave:
                    self.metrics.relay_lag.observe(max(0.0, now - event.occurred_at.timestamp()))
                self.metrics.relay_published.inc(len(wave))

    async def _acknowledged(self, acks: list[asyncio.Future[Any]]) -> None:
        every: asyncio.Future[Any] = asyncio.gather(*acks)
        closed: asyncio.Future[Any] = asyncio.ensure_future(self._closed.wait())
        try:
            done, _ = await asyncio.wait({every, closed}, timeout=self.ACK_TIMEOUT_S,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if every not in done:
            every.cancel()
            with contextlib.suppress(BaseException):
                await every
            raise ConnectionError("NATS closed the connection" if closed in done else
                                  f"no acknowledgement within {self.ACK_TIMEOUT_S:.0f} s")
        every.result()  # a refusal (an API error) raises here

    async def _connected(self) -> JetStreamContext:
        if self._js is not None and self._nc is not None and self._nc.is_connected:
            return self._js
        await self._disconnect()
        self._closed = asyncio.Event()
        closed = self._closed

        async def on_error(exc: Exception) -> None:
            log.debug("NATS: %s", _safe(exc, self._url))

        async def on_closed() -> None:
            closed.set()

        # No reconnecting inside the client: a connection lost drops what it buffered, and
        # the relay starts again from its position (nothing sent twice out of order). One
        # attempt per server (the client's default tries each 60 times, 2 s apart): the
        # relay's own backoff paces the next.
        nc = await nats.connect(self._url, allow_reconnect=False, connect_timeout=2,
                                max_reconnect_attempts=1, reconnect_time_wait=0,
                                error_cb=on_error, closed_cb=on_closed, name="tote relay")
        js = nc.jetstream()
        try:
            await js.stream_info(STREAM)
        except NotFoundError:
            await js.add_stream(name=STREAM, subjects=[SUBJECTS])
            log.info("NATS relay: created the stream %s (subjects %s)", STREAM, SUBJECTS)
        self._nc, self._js = nc, js
        log.info("NATS relay: connected to %s", redacted(self._url))
        return js

    async def _disconnect(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), 2)

    async def _failed(self, exc: Exception) -> None:
        await self._disconnect()
        if self.metrics is not None:
            self.metrics.relay_failures.inc()
        low, high = self.BACKOFF_S
        first = not self._backoff
        self._backoff = min(high, self._backoff * 2 or low)
        (log.warning if first else log.debug)(
            "NATS relay must wait (events are kept; it catches up): %s; again in %.1f s",
            _safe(exc, self._url), self._backoff)
        await asyncio.sleep(self._backoff)
        self.wake()  # try again at once after the pause, not at the next interval


def _safe(exc: BaseException, url: str) -> str:
    """An error's text with the URL's credentials taken out."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    parts = urlsplit(url.split(",")[0].strip())
    for secret in (parts.password, parts.username):
        if secret:
            text = text.replace(secret, "***")
    return text.replace(url, redacted(url))
