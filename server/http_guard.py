"""uvicorn's h11 protocol with a deadline on each request's arrival (headers and body).

uvicorn bounds a header's size (h11's 16 KiB), idle keep-alive connections
(`timeout_keep_alive`, from the end of a response) and concurrent requests
(`limit_concurrency`, 503 past it). It has no deadline for a request to *arrive*: a client
that connects and sends nothing, sends its headers a byte at a time, or trickles its body
holds a connection (and one of `limit_concurrency`'s places) for as long as it likes. Here
every request must be read whole within `request_timeout_s` of the connection opening (or of
the previous response); a client still sending then is disconnected.
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

log = logging.getLogger(__name__)


class GuardedH11Protocol(H11Protocol):
    request_timeout_s = 10.0  # set per server by `guarded_protocol`

    def __init__(self, config: Config, server_state: ServerState,
                 app_state: dict[str, object], _loop: asyncio.AbstractEventLoop | None = None):
        super().__init__(config, server_state, app_state, _loop)
        self._arrival: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's H11Protocol: it runs on a TCP transport only
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._arrival is not None:
            self._arrival.cancel()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def _arm(self) -> None:
        # Unlike the keep-alive timer, arriving data does not push this one back: a byte a
        # second keeps a connection alive under timeout_keep_alive, not under this.
        if self._arrival is not None:
            self._arrival.cancel()
        self._arrival = self.loop.call_later(self.request_timeout_s, self._arrival_deadline)

    def _arrival_deadline(self) -> None:
        self._arrival = None
        if self.transport.is_closing():
            return
        request_read = self.conn.their_state in (h11.DONE, h11.MUST_CLOSE)
        if request_read and self.cycle is not None and not self.cycle.response_complete:
            return  # the app is answering a request that arrived in time: not ours to cut
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
        # (debug: a slowloris flood would otherwise write a line per connection)
        log.debug("closing a connection whose request did not arrive within %.1f s",
                  self.request_timeout_s)
        self.transport.close()


def guarded_protocol(request_timeout_s: float) -> type[GuardedH11Protocol]:
    """The protocol class with this server's deadline (uvicorn instantiates it per connection)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,),
                {"request_timeout_s": request_timeout_s})
