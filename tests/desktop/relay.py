"""A TCP relay between the console and a real `tote serve`: slow answers, dropped links."""

from __future__ import annotations

import queue
import socket
import threading
import time


class Relay:
    """Forwards 127.0.0.1:port → target; the server's bytes arrive `delay_s` late.

    `down()` cuts every connection and refuses new ones until `up()` (a network outage).
    """

    def __init__(self, target: str, delay_s: float = 0.0) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self.delay_s = delay_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._up = True
        threading.Thread(target=self._accept, daemon=True, name="relay-accept").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                up = self._up
            if not up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, upstream]
            self._pipe(client, upstream, 0.0)  # requests go at once
            self._pipe(upstream, client, self.delay_s)  # answers come late

    def _pipe(self, src: socket.socket, dst: socket.socket, delay_s: float) -> None:
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def read() -> None:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                chunks.put((time.monotonic() + delay_s, data))
                if not data:
                    return

        def write() -> None:
            while True:
                due, data = chunks.get()
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                try:
                    if not data:
                        dst.shutdown(socket.SHUT_WR)
                        return
                    dst.sendall(data)
                except OSError:
                    return

        threading.Thread(target=read, daemon=True, name="relay-read").start()
        threading.Thread(target=write, daemon=True, name="relay-write").start()

    def down(self) -> None:
        """Cut every connection; refuse new ones."""
        with self._lock:
            self._up = False
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def up(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self.listener.close()
        self.down()
