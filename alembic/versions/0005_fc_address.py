"""a fulfillment center's return address is optional and NULL when it has none

Labels print it as the sender; an FC without one is refused a label (FAILED_PRECONDITION)
instead of printing a made-up "FROM Bengaluru / FC-BLR warehouse". Until now an FC created
without an address stored `{}` or an address of blanks: those become NULL.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FCS = sa.table("fulfillment_centers", sa.column("fc_id", sa.String()),
               sa.column("address", sa.JSON(none_as_null=True)))


def _blank(address: Any) -> bool:
    # Coordinates alone (0.0 or not) are no postal address: only the text fields count.
    if not isinstance(address, dict):
        return True
    return not any(str(v).strip() for k, v in address.items()
                   if k not in ("latitude", "longitude") and v is not None)


def upgrade() -> None:
    with op.batch_alter_table("fulfillment_centers") as batch:
        batch.alter_column("address", existing_type=sa.JSON(), nullable=True)
    conn = op.get_bind()
    for fc_id, address in conn.execute(sa.select(FCS.c.fc_id, FCS.c.address)).all():
        if _blank(address):
            conn.execute(sa.update(FCS).where(FCS.c.fc_id == fc_id).values(address=sa.null()))


def downgrade() -> None:
    # Before 0005 "no address" was stored as an empty object.
    conn = op.get_bind()
    conn.execute(sa.update(FCS).where(FCS.c.address.is_(None)).values(address={}))
    with op.batch_alter_table("fulfillment_centers") as batch:
        batch.alter_column("address", existing_type=sa.JSON(), nullable=False)
