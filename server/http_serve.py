"""Run an ASGI app (webhook receiver, sandbox) with uvicorn on the current asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import uvicorn

from server.http_guard import guarded_protocol
from server.settings import HttpLimits, TlsFiles

log = logging.getLogger(__name__)

_STARTUP_TIMEOUT_S = 10.0


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # tote installs its own SIGINT/SIGTERM handlers and stops every server itself; uvicorn's
        # would swallow the signal and re-raise it only after this one server has stopped.
        yield


class AsgiServer:
    """A running uvicorn server: its address and a bounded, graceful `stop()`."""

    def __init__(self, server: _EmbeddedServer, task: asyncio.Task[None], host: str, port: int,
                 scheme: str = "http"):
        self._server = server
        self._task = task
        self.host = host
        self.port = port
        self.scheme = scheme

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8080``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop accepting connections, let in-flight requests finish, give up after timeout_s."""
        if self._task.done():
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout_s)
        except TimeoutError:
            log.warning("HTTP server on %s did not stop within %.1fs; forcing", self.url, timeout_s)
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _bind(host: str, port: int) -> socket.socket:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    # "localhost" may list ::1 first; clients mostly try 127.0.0.1 first, so prefer IPv4.
    family, _, _, _, addr = min(infos, key=lambda info: info[0] != socket.AF_INET)
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says it is TCP; with proto 0 small responses wait ~44 ms for Nagle.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def serve_asgi(app: Any, host: str, port: int, limits: HttpLimits | None = None,
                     tls: TlsFiles | None = None) -> AsgiServer:
    """Bind host:port (0 picks a free port), serve app on the running loop, return once ready.

    Without `limits` a client may hold a connection as long as it likes (the sandbox, tests);
    with `tls` the server speaks https only, and asks for a client certificate when
    `tls.client_ca` is given.
    """
    sock = _bind(host, port)
    config = uvicorn.Config(
        app,
        log_config=None,  # keep the host process's logging configuration untouched
        log_level="warning",
        access_log=False,
        lifespan="off",
        http=guarded_protocol(limits.request_timeout_s) if limits else "h11",
        ws="none",
        timeout_graceful_shutdown=3,
        limit_concurrency=limits.max_connections if limits else None,
        timeout_keep_alive=limits.keep_alive_s if limits else 5,
        ssl_certfile=tls.cert if tls else None,
        ssl_keyfile=tls.key if tls else None,
        ssl_ca_certs=tls.client_ca if tls else None,
        ssl_cert_reqs=ssl.CERT_REQUIRED if tls and tls.client_ca else ssl.CERT_NONE,
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn {host}:{port}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _STARTUP_TIMEOUT_S
    while not server.started:
        if task.done():
            sock.close()
            task.result()  # re-raises the startup error
            raise RuntimeError(f"HTTP server on {host}:{port} exited during startup")
        if loop.time() > deadline:
            server.should_exit = True
            task.cancel()
            sock.close()
            raise TimeoutError(f"HTTP server on {host}:{port} did not start")
        await asyncio.sleep(0.005)
    bound_port = sock.getsockname()[1]
    return AsgiServer(server, task, host, bound_port, "https" if tls else "http")
