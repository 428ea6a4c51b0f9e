"""Commands of worker leases: which replica runs a whole-pass worker (server/leases.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.commands import Command


@dataclass(frozen=True, slots=True)
class LeaseGrant:
    """The answer to AcquireWorkerLease: `held` until the lease's end; `took_over_from` names
    the replica whose lapsed lease this one took (None: it was ours, new, or given up)."""

    held: bool
    took_over_from: str | None = None


@dataclass(frozen=True, slots=True)
class AcquireWorkerLease(Command[LeaseGrant]):
    """Hold (or renew) the lease called `name` for `holder` until now + `lease`, if it is the
    holder's already or has lapsed."""

    name: str
    holder: str
    now: datetime
    lease: timedelta


@dataclass(frozen=True, slots=True)
class ReleaseWorkerLease(Command[bool]):
    """The holder gives the lease up now (stopping): another replica may take it at once."""

    name: str
    holder: str
    now: datetime
