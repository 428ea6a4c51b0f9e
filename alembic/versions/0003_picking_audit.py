"""picking audit: bin-label confirmation per FC, who reported a short pick

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing FCs keep working as before: no bin-label scan until a supervisor asks for it.
    with op.batch_alter_table("fulfillment_centers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirm_bin_scan", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_reported_by", sa.String(length=128),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pick_lines", schema=None) as batch_op:
        batch_op.drop_column("short_reported_by")
    with op.batch_alter_table("fulfillment_centers", schema=None) as batch_op:
        batch_op.drop_column("confirm_bin_scan")
