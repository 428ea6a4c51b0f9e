"""Handlers of worker leases' commands (core/domain/lease_commands.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.domain.lease_commands import AcquireWorkerLease, LeaseGrant, ReleaseWorkerLease
from core.service import leases
from core.service.deps import Deps
from core.service.handlers import Handler


def acquire(session: Session, cmd: AcquireWorkerLease, deps: Deps) -> LeaseGrant:
    return leases.acquire(session, cmd.name, cmd.holder, cmd.now, cmd.lease)


def release(session: Session, cmd: ReleaseWorkerLease, deps: Deps) -> bool:
    return leases.release(session, cmd.name, cmd.holder, cmd.now)


HANDLERS: dict[type[Any], Handler] = {
    AcquireWorkerLease: acquire,
    ReleaseWorkerLease: release,
}
