"""What a client may hold of the webhook endpoint, tried from outside with raw sockets against a
live `tote serve`: an over-long body is refused and its connection closed (not read to the
end), a request must arrive whole within --webhook-timeout-s (headers or body trickled a byte
at a time are cut off), and past --webhook-max-connections a request is answered 503.

A trickling client sends a byte now and then: that pacing is the behaviour under test; every
wait for the server has a deadline that only catches a hang.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from core.persistence import migrate
from server.webhooks import MAX_BODY
from tests.harness import ToteServer

TIMEOUT_S = 1  # --webhook-timeout-s of the server under test
MAX_CONNECTIONS = 6
HANG_S = 30.0  # only a hang gets here


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    # The HTTP layer does not touch the database: one backend is enough.
    url = str(tmp_path_factory.mktemp("db") / "tote.db")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"), args=[
        "--webhook-timeout-s", str(TIMEOUT_S),
        "--webhook-max-connections", str(MAX_CONNECTIONS)]).start()
    try:
        yield server
    finally:
        server.terminate()


def connect(tote: ToteServer) -> socket.socket:
    host, port = tote.webhook_url.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=HANG_S)
    return sock


def head(length: int | None = None, path: str = "/webhooks/gateway") -> bytes:
    framing = f"content-length: {length}" if length is not None else "transfer-encoding: chunked"
    return (f"POST {path} HTTP/1.1\r\nhost: tote\r\ncontent-type: application/json\r\n"
            f"{framing}\r\n\r\n").encode()


def response_of(sock: socket.socket) -> bytes:
    """What the server sent until it closed the connection (a hang fails the test)."""
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


def closed_while_sending(sock: socket.socket, piece: bytes, most: int) -> bool:
    """Send piece after piece, up to `most` bytes: True once the server has closed on us."""
    sent = 0
    try:
        while sent < most:
            sock.sendall(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        return True
    return False


def test_a_content_length_over_the_cap_is_413_before_any_body_and_the_rest_is_not_read(tote):
    with connect(tote) as sock:
        sock.sendall(head(100 * 1024 * 1024))
        first = sock.recv(65536)  # answered before one byte of the body was sent
        assert first.startswith(b"HTTP/1.1 413"), first[:80]
        assert b"connection: close" in first.lower()
        # A server that went on reading (and dropping) would take all 100 MB.
        assert closed_while_sending(sock, b"x" * 65536, 100 * 1024 * 1024)


def test_a_chunked_body_is_cut_at_the_cap(tote):
    chunk = b"%x\r\n%s\r\n" % (8192, b" " * 8192)
    with connect(tote) as sock:
        sock.sendall(head())
        assert closed_while_sending(sock, chunk, 100 * 1024 * 1024)


def test_a_connection_that_sends_nothing_is_closed(tote):
    with connect(tote) as sock:
        assert response_of(sock) == b""


def test_a_connection_that_sends_its_headers_and_then_nothing_is_closed(tote):
    with connect(tote) as sock:
        sock.sendall(head(100))
        assert response_of(sock) == b""  # closed, with nothing to say to a half request


def trickle(sock: socket.socket, data: bytes) -> bool:
    """Send data a byte every 50 ms: True once the server has closed the connection."""
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return True
        time.sleep(0.05)  # the slowloris's pace, not a wait for the server
    return False


def test_headers_sent_a_byte_at_a_time_are_cut_off(tote):
    slow = b"POST /webhooks/gateway HTTP/1.1\r\nhost: tote\r\nx-padding: " + b"a" * 600
    with connect(tote) as sock:
        assert trickle(sock, slow), "the server read slow headers for as long as they came"


def test_a_body_sent_a_byte_at_a_time_is_cut_off(tote):
    with connect(tote) as sock:
        sock.sendall(head(MAX_BODY))
        assert trickle(sock, b" " * 600), "a trickled body was read for ever"


@pytest.fixture(scope="module")
def patient(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    """A server whose idle connections outlive the test (so the limit, not the timeout, acts)."""
    server = ToteServer(db_url, tmp_path_factory.mktemp("patient"), args=[
        "--webhook-timeout-s", str(10 * HANG_S),
        "--webhook-max-connections", str(MAX_CONNECTIONS)]).start()
    try:
        yield server
    finally:
        server.terminate()


def test_past_the_connection_limit_a_request_is_503_and_the_limit_frees_up(patient):
    tote = patient
    with ExitStack() as stack:
        idle = [stack.enter_context(connect(tote)) for _ in range(MAX_CONNECTIONS)]
        with connect(tote) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: tote\r\n\r\n")
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 503"), answer[:80]
        for sock in idle:
            sock.close()
    # The closed connections leave uvicorn's count as their close is seen: ask until they have.
    deadline = time.monotonic() + HANG_S
    while (status := httpx.get(f"{tote.webhook_url}/healthz").status_code) == 503:
        assert time.monotonic() < deadline, "the connection limit never freed up"
    assert status == 200
