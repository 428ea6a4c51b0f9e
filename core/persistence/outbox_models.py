"""The outbox consumers' positions: how far each consumer of order_events has handled them.

A consumer (core/service/outbox.py) reads the events after its position and moves the
position in the same transaction as what it did with them (a table consumer's rows), or after
the outside world acknowledged them (the NATS relay): each event's effect happens once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.persistence.models import Base, UtcDateTime


class OutboxPosition(Base):
    """One consumer's durable position: every event id up to `position` is handled (or was
    never committed)."""

    __tablename__ = "outbox_positions"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
