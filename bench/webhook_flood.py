"""What a flood of oversized or half-sent webhooks costs a real `tote serve`: its RSS, and whether
the connections are let go.

    .venv/bin/python bench/webhook_flood.py [--size-mb 30] [--posts 10] [--half-open 300]
    .venv/bin/python bench/webhook_flood.py --code /tmp/tote-at-78a379a   # another checkout

`tote serve --sandbox` runs as a child process on SQLite (from --code: the server of another
checkout, e.g. a `git archive` of an older commit, measured with this same script). Three
rounds, raw sockets, each client in a thread:
  1. --posts POSTs of --size-mb each at once, with a Content-Length;
  2. the same, chunked (no length to trust);
  3. --half-open connections that send half a request's headers and then nothing.
For 1 and 2: the server's peak RSS over its RSS before the round (sampled every 5 ms from
/proc), the answers, and how many bytes the server took before it closed the connection. For
3: how many connections the server closed within --wait-s, and whether a real request was
answered meanwhile. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.harness import ToteServer  # noqa: E402

PIECE = 256 * 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class PeakRss:
    """The largest RSS of a process seen while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self) -> PeakRss:
        self.peak = rss_kib(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def address(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[1].rsplit(":", 1)
    return host, int(port)


def big_post(addr: tuple[str, int], size: int, chunked: bool, out: list[tuple[str, int]]) -> None:
    """Send a size-byte body (or until the server closes); record (answer, bytes taken)."""
    framing = "transfer-encoding: chunked" if chunked else f"content-length: {size}"
    sent = 0
    with socket.create_connection(addr, timeout=60) as sock:
        sock.sendall(f"POST /webhooks/gateway HTTP/1.1\r\nhost: tote\r\n"
                     f"content-type: application/json\r\n{framing}\r\n\r\n".encode())
        piece = b" " * PIECE
        if chunked:
            piece = b"%x\r\n%s\r\n" % (PIECE, piece)
        try:
            while sent < size:
                sock.sendall(piece)
                sent += PIECE
            if chunked:
                sock.sendall(b"0\r\n\r\n")
            answer = sock.recv(200).split(b"\r\n", 1)[0].decode() or "closed"
        except OSError as exc:
            answer = f"cut off ({type(exc).__name__})"
        out.append((answer, sent))


def flood(server: ToteServer, size_mb: int, posts: int, chunked: bool) -> None:
    assert server.proc is not None
    addr = address(server.webhook_url)
    out: list[tuple[str, int]] = []
    with PeakRss(server.proc.pid) as rss:
        before = rss.peak
        t0 = time.perf_counter()
        threads = [threading.Thread(target=big_post, args=(addr, size_mb << 20, chunked, out))
                   for _ in range(posts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - t0
    answers: dict[str, int] = {}
    for answer, _ in out:
        answers[answer] = answers.get(answer, 0) + 1
    sent_mb = sum(sent for _, sent in out) / (1 << 20)
    kind = "chunked" if chunked else "with Content-Length"
    print(f"{posts} x {size_mb} MB POSTs {kind}: RSS {before / 1024:.0f} MB before, peak +"
          f"{(rss.peak - before) / 1024:.1f} MB; the clients got {sent_mb:.1f} MB of "
          f"{posts * size_mb} MB out in {took:.2f} s; answers {answers}")


def half_open(server: ToteServer, count: int, wait_s: float) -> None:
    addr = address(server.webhook_url)
    socks = []
    for _ in range(count):
        s = socket.create_connection(addr, timeout=wait_s)
        s.sendall(b"POST /webhooks/gateway HTTP/1.1\r\nhost: tote\r\n")  # and then nothing
        socks.append(s)
    t0 = time.monotonic()
    status = real_request(addr)
    closed_at: list[float] = []
    lock = threading.Lock()

    def watch(s: socket.socket) -> None:
        try:
            s.settimeout(max(0.01, wait_s - (time.monotonic() - t0)))
            while s.recv(4096):
                pass
            with lock:
                closed_at.append(time.monotonic() - t0)
        except OSError:
            pass  # still open at the end of the wait
        finally:
            s.close()

    threads = [threading.Thread(target=watch, args=(s,)) for s in socks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last = f", the last after {max(closed_at):.1f} s" if closed_at else ""
    print(f"{count} half-open connections: {len(closed_at)} closed by the server within "
          f"{wait_s:.0f} s{last}; a real request meanwhile: {status}; after: "
          f"{real_request(addr)}")


def real_request(addr: tuple[str, int]) -> str:
    try:
        with socket.create_connection(addr, timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nhost: tote\r\nconnection: close\r\n\r\n")
            return s.recv(200).split(b"\r\n", 1)[0].decode() or "closed"
    except OSError as exc:
        return f"failed ({type(exc).__name__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=30)
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--half-open", type=int, default=300)
    parser.add_argument("--wait-s", type=float, default=20.0)
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="checkout whose tote serve to run (default: this one)")
    parser.add_argument("--serve-args", default="", help="more tote serve flags")
    args = parser.parse_args()
    code = args.code.resolve()
    env = {"PYTHONPATH": f"{code}{os.pathsep}{code / 'protos'}"}
    with tempfile.TemporaryDirectory() as tmp:
        server = ToteServer(str(Path(tmp) / "tote.db"), Path(tmp), env=env,
                            args=args.serve_args.split()).start()
        try:
            assert server.proc is not None
            print(f"tote serve from {code} (pid {server.proc.pid}): {server.webhook_url}")
            real_request(address(server.webhook_url))  # warm: the first request's imports
            flood(server, args.size_mb, args.posts, chunked=False)
            flood(server, args.size_mb, args.posts, chunked=True)
            half_open(server, args.half_open, args.wait_s)
        finally:
            server.terminate()


if __name__ == "__main__":
    main()
