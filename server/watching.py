"""WatchOrder and WatchOrders: the database's history in pages, then live entries of the hub.

What one stream may cost is bounded: a page of history (serialized, `replay_page` events) or
one entry of the hub's shared buffer at a time, and each token may hold `max_streams` streams
open at once. A WatchOrders watcher that falls more than the hub's buffer behind is ended with
ABORTED and the event id to resume after (message and `tote-resume-after` trailing metadata).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator

import grpc
from grpc import aio
from sqlalchemy.orm import Session

from core.domain.events import EventType
from core.domain.order import TERMINAL
from core.service import events, orders
from server import convert
from server.auth import current_principal, storefront_scope
from server.dbexec import DbExecutor
from server.hub import Behind, Entry, EventHub, Subscription

log = logging.getLogger(__name__)
# A watch of one order ends with the event that puts it in a terminal status: each such
# status's own event (Order_Delivered, Order_Cancelled).
TERMINAL_TYPES = frozenset(EventType(f"Order_{status.capitalize()}") for status in TERMINAL)
RESUME_KEY = "tote-resume-after"


class Watchers:
    def __init__(self, dbx: DbExecutor, hub: EventHub, max_streams: int,
                 replay_page: int, replay_per_s: float) -> None:
        self._dbx = dbx
        self._hub = hub
        self._max_streams = max_streams
        self._page = max(1, replay_page)
        self._open: dict[str, int] = {}  # token_id → streams open
        self._budget = Budget(replay_per_s)

    async def watch_order(self, order_id: str, context: aio.ServicerContext
                          ) -> AsyncIterator[bytes]:
        scope = storefront_scope()
        slot = await self._take_slot(context)
        with slot.held():
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

    async def watch_orders(self, after: int | None, fc_id: str, context: aio.ServicerContext
                           ) -> AsyncIterator[bytes]:
        scope = storefront_scope()

        def accept(e: Entry) -> bool:
            return (scope is None or e.storefront == scope) and (not fc_id or e.fc_id == fc_id)

        slot = await self._take_slot(context)
        with slot.held():
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
            await self._budget.take(self._page)  # before the read: no page held meanwhile
            page, after, full = await self._dbx.read(_page, after, upto, self._page, sub.gaps,
                                                     *where)
            for item in page:
                yield item
            if not full:
                return

    async def _take_slot(self, context: aio.ServicerContext) -> _Slot:
        principal = current_principal()
        token = principal.token_id
        held = self._open.get(token, 0)
        if held >= self._max_streams:
            log.info("refused a stream: a token of %s holds %d open", principal.name, held)
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this token already has {held} WatchOrder/WatchOrders streams open, the "
                f"limit; close one, or raise the limit (tote serve --max-streams-per-token, "
                f"env TOTE_MAX_STREAMS_PER_TOKEN)")
        self._open[token] = held + 1
        slot = _Slot(self._open, token, principal.name)
        # The call may end (the client gone) before the generator is closed, or without it.
        context.add_done_callback(slot.done)  # type: ignore[arg-type]  # grpcio passes the context
        return slot


def _page(session: Session, after: int, upto: int, limit: int, skip: frozenset[int],
          *where: str | None) -> tuple[list[tuple[bytes, str]], int, bool]:
    """A page of history, serialized in the reader's thread (not on the event loop); the last
    id read; whether the page was full (there may be more)."""
    rows = events.page(session, after, upto, limit, *where)
    out = [(convert.event_to_pb(r).SerializeToString(), r.type) for r in rows
           if r.event_id not in skip]
    return out, rows[-1].event_id if rows else upto, len(rows) == limit


class Budget:
    """Events a second all history replays together may send: a thousand clients replaying
    from the first event would otherwise keep the event loop sending and every other call
    waiting behind them. Live events are not counted."""

    def __init__(self, per_s: float) -> None:
        self._per_s = per_s
        self._free_at = 0.0  # when the budget spent so far is earned back

    async def take(self, n: int) -> None:
        now = time.monotonic()
        start = max(now, self._free_at)
        self._free_at = start + n / self._per_s
        if start > now:
            await asyncio.sleep(start - now)


class _Slot:
    """One open stream of a token: freed once, whichever of the handler's end or the call's
    end comes first."""

    def __init__(self, counts: dict[str, int], token: str, who: str) -> None:
        self._counts, self._token, self._who = counts, token, who
        self.released = self.ended = False

    def release(self, ended: bool = True) -> None:
        """`ended`: by the handler itself (an end, an error), not by the client leaving."""
        if self.released:
            return
        self.released, self.ended = True, ended
        left = self._counts[self._token] - 1
        if left:
            self._counts[self._token] = left
        else:
            del self._counts[self._token]

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the slot for the stream's body: a client leaving (the generator closed or
        cancelled at a send) frees it as not `ended`; any other way out frees it too."""
        try:
            yield
        except (GeneratorExit, asyncio.CancelledError):
            self.release(ended=False)  # the client went away (done() says so)
            raise
        finally:
            self.release()

    def done(self, _context: aio.ServicerContext) -> None:
        # Nothing of the context may be used here: grpc has freed the call (its peer() there
        # crashed the process).
        self.release(ended=False)
        if not self.ended:  # the handler did not finish: the client cancelled or dropped
            log.debug("a watcher of %s went away", self._who)


class ClientGoneFilter(logging.Filter):
    """grpc aio logs an ERROR with a traceback when it fails to send a stream's message to a
    client that has just gone (the send fails before grpc sees the stream closed): that is a
    client leaving, not a server fault — kept as a DEBUG line without the traceback."""

    PREFIX = "ExecuteBatchError raised in core by servicer method"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith(self.PREFIX):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.exc_info = record.exc_text = None
            record.msg = f"a client went away mid-stream ({record.getMessage()})"
            record.args = None
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def quiet_client_gone() -> None:
    """Install ClientGoneFilter on grpc aio's logger (once)."""
    grpc_log = logging.getLogger("grpc._cython.cygrpc")
    if not any(isinstance(f, ClientGoneFilter) for f in grpc_log.filters):
        grpc_log.addFilter(ClientGoneFilter())
