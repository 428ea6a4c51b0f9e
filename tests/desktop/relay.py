"""A TCP relay between the console and a real `tote serve`: slow answers, dropped links."""

from __future__ import annotations

import queue
import socket
import threading


class Relay:
    """Forwards 127.0.0.1:port → target.

    `hold()` keeps the server's answers at the relay until `release()` (a call provably in
    flight: `held_bytes` says the server has answered and the client has not heard yet);
    `down()` cuts every connection and refuses new ones until `up()` (a network outage).
    """

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self._released = threading.Event()
        self._released.set()
        self.held_bytes = 0
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
            self._pipe(client, upstream, held=False)  # requests go at once
            self._pipe(upstream, client, held=True)  # answers wait while held

    def hold(self) -> None:
        """Keep every answer from the server at the relay until release()."""
        self.held_bytes = 0
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def holding(self) -> bool:
        return not self._released.is_set()

    def _pipe(self, src: socket.socket, dst: socket.socket, held: bool) -> None:
        chunks: queue.Queue[bytes] = queue.Queue()

        def read() -> None:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                chunks.put(data)
                if not data:
                    return

        def write() -> None:
            while True:
                data = chunks.get()
                if held and not self._released.is_set():
                    self.held_bytes += len(data)
                    self._released.wait()
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
        self.release()
