"""orders indexed for ListOrders' keyset pages: (filter column, order_id) per filter

ListOrders pages newest first by order id, with or without a storefront, status, customer or
FC filter. An index on the filter column alone makes the database fetch every matching order
and sort them to return one page (thousands of rows for a status at a million orders); one on
(filter column, order_id) hands them over in order, so a page reads about a page of rows. The
composite indexes replace the single-column ones (and status + created_at, which nothing orders
by): every query that used those can use their leading column.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = (("ix_orders_storefront_order", ["storefront", "order_id"]),
        ("ix_orders_status_order", ["status", "order_id"]),
        ("ix_orders_customer_order", ["customer_id", "order_id"]),
        ("ix_orders_fc_order", ["fc_id", "order_id"]))
_OLD = (("ix_orders_customer_id", ["customer_id"]),
        ("ix_orders_fc_id", ["fc_id"]),
        ("ix_orders_status_created", ["status", "created_at"]))


def upgrade() -> None:
    # New ones first: a query never finds itself without an index on its filter meanwhile.
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for name, columns in _NEW:
            batch_op.create_index(name, columns, unique=False)
        for name, _ in _OLD:
            batch_op.drop_index(name)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for name, columns in _OLD:
            batch_op.create_index(name, columns, unique=False)
        for name, _ in _NEW:
            batch_op.drop_index(name)
