"""Per-token token buckets: the API gateway's rate limit, kept in each replica's memory."""

from __future__ import annotations

RETRY_AFTER_KEY = "retry-after-ms"


class TokenBucket:
    """`rps` calls a second on average, up to `burst` at once. Not thread-safe: the event
    loop is the only caller."""

    __slots__ = ("rps", "burst", "_level", "_at")

    def __init__(self, rps: float, burst: int, now: float) -> None:
        self.rps, self.burst = rps, burst
        self._level, self._at = float(burst), now

    def take(self, now: float) -> float:
        """0.0 when the call may go ahead (one unit taken); else seconds until one may."""
        level = self._level + (now - self._at) * self.rps
        if level > self.burst:
            level = self.burst
        self._at = now
        if level >= 1.0:
            self._level = level - 1.0
            return 0.0
        self._level = level
        return (1.0 - level) / self.rps
