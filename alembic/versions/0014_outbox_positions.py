"""outbox positions: how far each consumer of order_events (the NATS relay, the webhook and
notification fan-outs) has handled them, moved with what it did

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows appear when a consumer first runs (at the newest event then): none is fixed here.
    op.create_table(
        "outbox_positions",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_outbox_positions")),
    )


def downgrade() -> None:
    op.drop_table("outbox_positions")
