"""orders still to settle indexed apart (partial indexes): the settlement pass reads those,
not every order ever delivered

Every minute the settlement pass reads the captures due (card and UPI orders shipped or
delivered, captured, not settled: COD orders have a capture id too, remittances settle them)
and the COD orders delivered and not settled. Through the
status index each read walked every order delivered: the captures' 0.42 s at a million orders
(40 ms at ten thousand), and the COD candidates inside SQLite's one writer. Each index holds only
the orders its statement asks for — the money not yet settled, whatever the history — in
order_id order.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As core/persistence/models.py has them (a migration keeps its own copy: models move on).
# The columns are for SQLite's planner without statistics: it takes the index with the most
# equalities, and ix_orders_status_order offers one (status); order_id after settled_at hands
# the captures over in the order the pass asks for them, without a sort.
_INDEXES = (
    ("ix_orders_settlement_due", ["settled_at", "order_id"],
     "payment_method IN ('card', 'upi') AND status IN ('SHIPPED', 'DELIVERED') "
     "AND capture_id IS NOT NULL AND settled_at IS NULL"),
    ("ix_orders_cod_unsettled", ["payment_method", "status", "settled_at"],
     "payment_method = 'cod' AND status = 'DELIVERED' AND settled_at IS NULL"),
)


def upgrade() -> None:
    for name, columns, where in _INDEXES:
        op.create_index(name, "orders", columns, unique=False,
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    for name, _, _ in _INDEXES:
        op.drop_index(name, table_name="orders")
