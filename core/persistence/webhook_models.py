"""Storefront webhooks: the endpoints storefronts register, one delivery per event and
endpoint, and every attempt to send it (core/service/webhooks.py; the sender is
server/storefront_hooks.py).

No signing secret is stored: each is derived from the server's signing key and the endpoint id
when it is shown (CreateEndpoint) and when a delivery is signed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.persistence.models import Base, UtcDateTime


class WebhookEndpoint(Base):
    """A storefront's URL and the event types it wants (empty: every type)."""

    __tablename__ = "webhook_endpoints"

    endpoint_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    storefront: Mapped[str] = mapped_column(String(128), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The last 2xx: an endpoint with none since a delivery's first attempt failed throughout.
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookDelivery(Base):
    """One event for one endpoint: its body, fixed when the event was fanned out, and where
    its sending stands. `next_attempt_at` is also the claim's lease (a sender sets it ahead)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        # The sender's scan: pending deliveries by when they are due.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # Order per order: an earlier pending delivery of the same order to the same endpoint.
        Index("ix_webhook_deliveries_order", "endpoint_id", "order_id", "event_id"),
    )

    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    endpoint_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhook_endpoints.endpoint_id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    # "pending" | "delivered" | "failed"
    status: Mapped[str] = mapped_column(String(16))
    # Attempts in this round of the retry schedule (a Redeliver starts a new round).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    round_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookAttempt(Base):
    """One HTTP request of a delivery and how it went."""

    __tablename__ = "webhook_attempts"

    attempt_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("webhook_deliveries.delivery_id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    http_status: Mapped[int] = mapped_column(Integer)  # 0: no answer
    error: Mapped[str] = mapped_column(Text, default="")
    latency_ms: Mapped[int] = mapped_column(Integer)
