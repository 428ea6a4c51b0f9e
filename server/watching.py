"""WatchOrder and WatchOrders: the database's history in pages, then live entries of the hub.

What one stream may cost is bounded: a page of history (serialized, `replay_page` events) or
one entry of the hub's shared buffer at a time, and each token may hold `max_streams` streams
open at once. A WatchOrders watcher that falls more than the hub's buffer behind is ended with
ABORTED and the event id to resume after (message and `tote-resume-after` trailing metadata).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import grpc
from grpc import aio

from core.service import events, orders
from server import convert
from server.auth import current_principal, storefront_scope
from server.dbexec import DbExecutor
from server.hub import Behind, Entry, EventHub, Subscription

log = logging.getLogger(__name__)
TERMINAL_TYPES = {"Order_Delivered", "Order_Cancelled"}
RESUME_KEY = "tote-resume-after"


class Watchers:
    def __init__(self, dbx: DbExecutor, hub: EventHub, max_streams: int,
                 replay_page: int) -> None:
        self._dbx = dbx
        self._hub = hub
        self._max_streams = max_streams
        self._page = max(1, replay_page)
        self._open: dict[str, int] = {}  # token_id → streams open

    def open_streams(self, token_id: str) -> int:
        return self._open.get(token_id, 0)

    async def watch_order(self, order_id: str, context: aio.ServicerContext
                          ) -> AsyncIterator[bytes]:
        scope = storefront_scope()
        release = await self._take_slot(context)
        try:
            await self._dbx.read(orders.load, order_id, scope)  # NOT_FOUND if not theirs
            sub = await self._hub.subscribe(order_id)
            try:
                async for payload, type_ in self._replay(sub, 0, order_id, None, None):
                    yield payload
                    if type_ in TERMINAL_TYPES:
                        return
                while True:
                    entry = await self._hub.next(sub)
                    yield entry.payload
                    if entry.type in TERMINAL_TYPES:
                        return
            finally:
                self._hub.unsubscribe(sub)
        except asyncio.CancelledError:
            _gone(context)
            raise
        finally:
            release()

    async def watch_orders(self, after: int | None, fc_id: str, context: aio.ServicerContext
                           ) -> AsyncIterator[bytes]:
        scope = storefront_scope()

        def accept(e: Entry) -> bool:
            return (scope is None or e.storefront == scope) and (not fc_id or e.fc_id == fc_id)

        release = await self._take_slot(context)
        try:
            sub = await self._hub.subscribe(None, accept)
            try:
                if after is not None:
                    async for payload, _ in self._replay(sub, after, None, scope,
                                                         fc_id):
                        yield payload
                while True:
                    try:
                        entry = await self._hub.next(sub)
                    except Behind as exc:
                        resume = max(exc.resume_after, after or 0)
                        break
                    # A client resuming ahead of this server's poller has these already.
                    if after is None or entry.event_id > after:
                        yield entry.payload
            finally:
                self._hub.unsubscribe(sub)
        except asyncio.CancelledError:
            _gone(context)
            raise
        finally:
            release()
        log.info("a WatchOrders watcher fell more than %d events behind; told to resume "
                 "after %d", self._hub.buffer_events, resume)
        await context.abort(
            grpc.StatusCode.ABORTED,
            f"this stream fell more than {self._hub.buffer_events} events behind (is the "
            f"client reading?); resume with after_event_id={resume}",
            trailing_metadata=((RESUME_KEY, str(resume)),))

    async def _replay(self, sub: Subscription, after: int, *where: str | None
                      ) -> AsyncIterator[tuple[bytes, str]]:
        """The events before the watcher's live ones, a page at a time: ids after `after` up
        to the hub's position when it subscribed, except those the hub will still send live
        (PostgreSQL commits that id had not seen yet)."""
        upto = sub.live_from
        while after < upto:
            rows = await self._dbx.read(events.page, after, upto, self._page, *where)
            if not rows:
                return
            full = len(rows) == self._page
            after = rows[-1].event_id
            # Serialized at once: a watcher blocked in `yield` holds bytes, not rows.
            page = [(convert.event_to_pb(r).SerializeToString(), r.type) for r in rows
                    if r.event_id not in sub.gaps]
            del rows
            for item in page:
                yield item
            if not full:
                return

    async def _take_slot(self, context: aio.ServicerContext) -> Callable[[], None]:
        token = current_principal().token_id
        held = self._open.get(token, 0)
        if held >= self._max_streams:
            log.info("refused a stream: token %s holds %d open", token, held)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this token already has {held} WatchOrder/WatchOrders streams open, the "
                f"limit; close one, or raise the limit (tote serve --max-streams-per-token, "
                f"env TOTE_MAX_STREAMS_PER_TOKEN)")
        self._open[token] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                left = self._open[token] - 1
                if left:
                    self._open[token] = left
                else:
                    del self._open[token]

        # Also when the call ends without the generator being closed (a client gone while
        # the handler was not suspended in it).
        context.add_done_callback(lambda _ctx: release())  # type: ignore[arg-type]  # stubs: a Callable[[context], None] in grpcio
        return release


def _gone(context: aio.ServicerContext) -> None:
    # The client cancelled or its connection dropped: nothing went wrong here.
    log.debug("a watcher went away (%s)", context.peer())
