"""A storefront's webhook receiver on loopback (http.server in a thread), for the storefront
webhook tests: each path answers its own way and every request is kept."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


@dataclass
class Receiver:
    """Paths: /ok/… 200; /fail/… 500; /gone/… 410; /redirect/… 302 to /ok/redirected;
    /big/… 200 with an endless body; /flaky/… 500 to the first two requests of each webhook-id
    then 200; /switch/NAME/… answers `modes[NAME]` (a status code, 500 unless set)."""

    requests: list[Received] = field(default_factory=list)
    modes: dict[str, int] = field(default_factory=dict)
    big_sent: list[int] = field(default_factory=list)  # bytes written per /big request
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append(Received(self.path, headers, body, time.monotonic()))
                kind = self.path.split("/")[1]
                if kind == "big":
                    return self._endless()
                status = {"ok": 200, "fail": 500, "gone": 410, "redirect": 302}.get(kind, 200)
                if kind == "flaky":
                    seen = sum(1 for r in receiver.requests
                               if r.headers.get("webhook-id") == headers.get("webhook-id")
                               and r.path == self.path)
                    status = 500 if seen <= 2 else 200
                elif kind == "switch":
                    status = receiver.modes.get(self.path.split("/")[2], 500)
                self.send_response(status)
                if status == 302:
                    self.send_header("location", f"{receiver.url}/ok/redirected")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def _endless(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/octet-stream")
                self.end_headers()  # no length: the body ends when the connection closes
                sent = 0
                receiver.big_sent.append(0)
                chunk = b"x" * 65536
                try:
                    while sent < 1 << 30:  # 1 GiB: far past any cap, yet finite
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        receiver.big_sent[-1] = sent
                except OSError:
                    pass  # the client closed the connection: what the cap should do
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def wait_for(what: str, check, timeout_s: float = 20.0):  # type: ignore[no-untyped-def]
    """check() until it answers something truthy; fails after the deadline (a hang)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
