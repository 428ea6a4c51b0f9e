"""tote codes: each pick task's tote gets a short number, printed and scanned as "T-0042"

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCE = "pick_task_tote_numbers"


def upgrade() -> None:
    with op.batch_alter_table("pick_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tote_no", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_pick_tasks_tote_no"), ["tote_no"], unique=True)
    # Totes already on the floor get their numbers too, oldest first, so a packer can scan
    # any of them by code.
    conn = op.get_bind()
    tasks = sa.table("pick_tasks", sa.column("task_id", sa.String), sa.column("tote_no"),
                     sa.column("created_at"))
    ids = list(conn.scalars(sa.select(tasks.c.task_id)
                            .order_by(tasks.c.created_at, tasks.c.task_id)))
    for number, task_id in enumerate(ids, start=1):
        conn.execute(sa.update(tasks).where(tasks.c.task_id == task_id)
                     .values(tote_no=number))
    if conn.dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence(SEQUENCE, start=len(ids) + 1)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence(SEQUENCE)))
    with op.batch_alter_table("pick_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pick_tasks_tote_no"))
        batch_op.drop_column("tote_no")
