"""Storefront webhooks' rules: delivery statuses, the retry schedule, when to give up."""

from __future__ import annotations

import re
from dataclasses import dataclass

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)

DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h"
_DELAY = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_retry_schedule(text: str) -> tuple[float, ...]:
    """'5s,5m,30m' → (5.0, 300.0, 1800.0): the waits after each failed attempt; ValueError
    saying what is wrong."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise ValueError(f"{text!r} is not a retry schedule: comma-separated delays such as "
                         f"{DEFAULT_RETRY_SCHEDULE}")
    delays = []
    for part in parts:
        m = _DELAY.fullmatch(part)
        if m is None:
            raise ValueError(f"{part!r} in the retry schedule is not a delay: a number and a "
                             "unit, ms, s, m, h or d (e.g. 5s, 30m, 2h)")
        seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
        if not 0 < seconds <= 7 * 86400:
            raise ValueError(f"{part!r} in the retry schedule: a delay is more than 0 and at "
                             "most 7 days")
        delays.append(seconds)
    if len(delays) > 20:
        raise ValueError(f"the retry schedule has {len(delays)} delays; at most 20")
    return tuple(delays)


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """How one HTTP attempt went: the status answered (0: none) and, if none, why."""

    http_status: int
    error: str
    latency_ms: int

    @property
    def delivered(self) -> bool:
        return 200 <= self.http_status < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the storefront says the endpoint is no more; tote stops at once."""
        return self.http_status == 410


def describe(outcome: AttemptOutcome) -> str:
    """An attempt in a few words, for a disabled endpoint's reason."""
    if outcome.http_status:
        return f"HTTP {outcome.http_status}"
    return outcome.error or "no answer"
