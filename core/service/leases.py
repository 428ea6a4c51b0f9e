"""Named worker leases: one replica at a time runs a worker whose work is a whole pass."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.domain.lease_commands import LeaseGrant
from core.persistence.repos import leases as repo


def acquire(session: Session, name: str, holder: str, now: datetime,
            lease: timedelta) -> LeaseGrant:
    """Hold or renew `name` for `holder` until now + lease, if ours or lapsed."""
    held, taken_from = repo.acquire(session.connection(), name, holder, now, now + lease)
    return LeaseGrant(held, taken_from)


def release(session: Session, name: str, holder: str, now: datetime) -> bool:
    return repo.release(session.connection(), name, holder, now)
