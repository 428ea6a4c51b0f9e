"""customer notifications: the order's contact, one row per message, the customers' opt-outs

PlaceOrder takes the customer's contact (email, E.164 phone, locale); the notifications fan-out
inserts one message per (event, channel, recipient) — unique, so exactly one is ever sent —
and the sender claims the due ones (status, due_at). Opt-outs are kept per storefront and
customer_id.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("contact_locale", sa.String(length=35), nullable=True))
    op.create_table(
        "notification_messages",
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("storefront", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=256), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_notification_messages")),
        sa.UniqueConstraint("event_id", "channel", "recipient", name="event_channel_recipient"),
    )
    op.create_index("ix_notification_messages_due", "notification_messages",
                    ["status", "due_at"], unique=False)
    op.create_index("ix_notification_messages_order", "notification_messages",
                    ["order_id", "message_id"], unique=False)
    op.create_table(
        "notification_preferences",
        sa.Column("storefront", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=256), nullable=False),
        sa.Column("email_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sms_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("storefront", "customer_id",
                                name=op.f("pk_notification_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index("ix_notification_messages_order", table_name="notification_messages")
    op.drop_index("ix_notification_messages_due", table_name="notification_messages")
    op.drop_table("notification_messages")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("contact_locale")
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_email")
