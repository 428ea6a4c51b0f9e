"""Backing off when tote throttles a token: RESOURCE_EXHAUSTED with `retry-after-ms` in the
trailing metadata. A throttled call changed nothing, so calling again is always safe."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import grpc

T = TypeVar("T")
RETRY_AFTER_KEY = "retry-after-ms"
# Bounded: after this many throttled tries the caller sees the refusal (a readable error).
ATTEMPTS = 5
# The longest single wait a handheld or the console accepts from the server.
MAX_WAIT_S = 5.0


def retry_after_s(exc: grpc.RpcError) -> float | None:
    """The server's requested delay for a throttled call, in seconds; None when the failure
    is anything else (RESOURCE_EXHAUSTED without the key, e.g. a message too large, included)."""
    code = getattr(exc, "code", None)
    if code is None or code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
        return None
    trailers = getattr(exc, "trailing_metadata", None)
    for key, value in (trailers() if trailers else None) or ():
        if key == RETRY_AFTER_KEY:
            try:
                return min(MAX_WAIT_S, max(0.0, int(value) / 1000))
            except ValueError:
                return None
    return None


def call_with_backoff(call: Callable[[], T], attempts: int = ATTEMPTS,
                      sleep: Callable[[float], object] = time.sleep) -> T:
    """call(); while tote throttles it, wait as long as it says (plus a little jitter, so that
    holders of one token do not all come back at once) and call again, `attempts` in all."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except grpc.RpcError as exc:
            delay = retry_after_s(exc)
            if delay is None or attempt == attempts:
                raise
            sleep(delay * (1 + random.random() * 0.1))
    raise AssertionError("unreachable")  # pragma: no cover
