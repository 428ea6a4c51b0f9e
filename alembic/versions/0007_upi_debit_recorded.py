"""an approved UPI payment is a debit: its order records the amount as captured at approval

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Until now an approved UPI intent showed captured 0 until packing, though the gateway had
# debited the customer at approval; `tote check` now holds the order to what the gateway did.
ORDERS = sa.table("orders", sa.column("payment_method", sa.String),
                  sa.column("payment_state", sa.String), sa.column("authorized_minor"),
                  sa.column("captured_minor"))
_DEBITED = ("authorized", "voiding")


def upgrade() -> None:
    op.execute(sa.update(ORDERS).where(ORDERS.c.payment_method == "upi",
                                       ORDERS.c.payment_state.in_(_DEBITED),
                                       ORDERS.c.captured_minor == 0)
               .values(captured_minor=ORDERS.c.authorized_minor))


def downgrade() -> None:
    op.execute(sa.update(ORDERS).where(ORDERS.c.payment_method == "upi",
                                       ORDERS.c.payment_state.in_(_DEBITED))
               .values(captured_minor=0))
