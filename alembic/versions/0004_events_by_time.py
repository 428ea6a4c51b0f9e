"""order events indexed by time: GetThroughput reads the last hours, not the whole history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_order_events_occurred_at", "order_events", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_order_events_occurred_at", table_name="order_events")
