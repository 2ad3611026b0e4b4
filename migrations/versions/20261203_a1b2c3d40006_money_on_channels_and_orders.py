"""money on channels and orders (issue 10): price basis, payment policy and gateway, shipping charge; the order's
tax breakdown, shipping tax, payment status and hold type

Revision ID: a1b2c3d40006
Revises: a1b2c3d40005
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40006"
down_revision: str | None = "a1b2c3d40005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("price_basis", sa.String(length=16), nullable=False, server_default="tax_exclusive")
        )
        batch_op.add_column(
            sa.Column("payment_policy", sa.String(length=32), nullable=False, server_default="external")
        )
        batch_op.add_column(sa.Column("payment_gateway", sa.String(length=16), nullable=False, server_default="test"))
        batch_op.add_column(sa.Column("shipping_charge", sa.JSON(), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prices_include_tax", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("shipping_tax_minor", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("tax_breakdown", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("payment_status", sa.String(length=24), nullable=False, server_default="unpaid"))
        batch_op.add_column(sa.Column("hold_type", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_orders_payment_status_id", ["payment_status", "id"], unique=False)
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_category", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("cancelled_quantity", sa.Integer(), nullable=False, server_default="0"))
    # Orders held before holds had types were held by hand.
    op.execute("UPDATE orders SET hold_type = 'manual' WHERE status = 'on_hold'")


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("cancelled_quantity")
        batch_op.drop_column("tax_category")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_payment_status_id")
        batch_op.drop_column("hold_type")
        batch_op.drop_column("payment_status")
        batch_op.drop_column("tax_breakdown")
        batch_op.drop_column("shipping_tax_minor")
        batch_op.drop_column("prices_include_tax")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("shipping_charge")
        batch_op.drop_column("payment_gateway")
        batch_op.drop_column("payment_policy")
        batch_op.drop_column("price_basis")
