"""shipments "packing" and "shipped" indexed by updated_at (partial indexes): the packing
worker's claim and the tracking poll read those rows, not every shipment

Every half second the packing worker claims the shipments left "packing", least recently
touched first (ClaimStuckPackings), and every tracking pass reads the parcels "shipped" the
same way. Shipments had no index on their status, so each read every shipment ever made: at a
million orders 110-190 ms in SQLite's one writer twice a second, and PlaceOrder queued behind
it. Each index holds only the shipments in its status (work in progress, whatever the
history), in the order the worker takes them. Partial rather than one index on (status,
updated_at): SQLite's planner, without statistics, preferred that one to order_id for the
statements about one order's shipments in a status.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = ("packing", "shipped")


def upgrade() -> None:
    for status in _STATUSES:
        where = sa.text(f"status = '{status}'")
        op.create_index(f"ix_shipments_{status}", "shipments", ["updated_at"], unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for status in _STATUSES:
        op.drop_index(f"ix_shipments_{status}", table_name="shipments")
