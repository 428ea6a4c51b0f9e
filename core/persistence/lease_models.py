"""The worker leases table: which replica runs a whole-pass worker (tracking polls,
settlement) on a database shared by several `tote serve` replicas.

Work that is a row of its own (a saga, a packing) is claimed row by row (its due/updated
column is its lease); work that is a pass over many rows is claimed here, by name, so one
replica runs each pass (server/leases.py renews it; core/persistence/repos/leases.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.persistence.models import Base, UtcDateTime


class WorkerLease(Base):
    """One worker kind's lease: who holds it and until when (a lapsed lease is anyone's)."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
