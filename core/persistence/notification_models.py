"""Customer notifications: one row per message (event, channel, recipient) and the customers'
opt-outs. The notifications fan-out inserts the rows; the sender (server/notifier.py) claims
due ones, sends them and marks them sent, retried or dead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.persistence.models import Base, UtcDateTime


class NotificationMessage(Base):
    """One customer message; unique per (event, channel, recipient): exactly one is ever sent."""

    __tablename__ = "notification_messages"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "recipient", name="event_channel_recipient"),
        # The sender's claim: messages queued (or sending under a lapsed lease) that are due.
        Index("ix_notification_messages_due", "status", "due_at"),
        Index("ix_notification_messages_order", "order_id", "message_id"),
    )

    message_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40))
    storefront: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str] = mapped_column(String(256))
    # "email" | "sms"
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(35))
    # What the template needs that the order row does not keep (the event's detail).
    detail: Mapped[str] = mapped_column(Text, default="")
    # "queued" | "sending" | "sent" | "dead" | "skipped"
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # queued: when the next attempt is due; sending: until when the claimer holds it.
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    holder: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    # What was sent, as rendered (the order's timeline shows it).
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NotificationPreference(Base):
    """A customer's opt-outs, keyed as the storefront knows the customer (its customer_id)."""

    __tablename__ = "notification_preferences"

    storefront: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    email_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
