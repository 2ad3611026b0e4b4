"""invoices: changes after the first cut (issue 11): the indexes of the invoice list's filters, each ending in id
(the cursor's order), so that a page of an order's or a status's invoices is one range of an index.

Revision ID: a1b2c3d40014
Revises: a1b2c3d40013
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a1b2c3d40014"
down_revision: str | None = "a1b2c3d40013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_order_id_id", ["order_id", "id"], unique=False)
        batch_op.create_index("ix_invoices_status_id", ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_status_id")
        batch_op.drop_index("ix_invoices_order_id_id")
