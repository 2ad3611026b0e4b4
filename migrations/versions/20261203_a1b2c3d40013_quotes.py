"""quotes and their lines (issue 11)

``quotes`` (B2B quotes: draft, sent, accepted, declined, expired), ``quote_lines`` (negotiated prices) and
``quote_numbers`` (the per-year counter of quote numbers).

Revision ID: a1b2c3d40013
Revises: a1b2c3d40012
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40013"
down_revision: str | None = "a1b2c3d40012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quote_numbers",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_quote_numbers")),
    )
    op.create_table(
        "quotes",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("reserve_stock", sa.Boolean(), nullable=False),
        sa.Column("shipping_address", sa.JSON(), nullable=False),
        sa.Column("billing_address", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("shipping_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("grand_total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_breakdown", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=500), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_quotes_channel_id_channels")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_quotes_customer_id_customers")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_quotes_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sa.UniqueConstraint("number", name=op.f("uq_quotes_number")),
    )
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.create_index("ix_quotes_customer_id_id", ["customer_id", "id"], unique=False)
        batch_op.create_index("ix_quotes_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_quotes_status_valid_until", ["status", "valid_until"], unique=False)

    op.create_table(
        "quote_lines",
        sa.Column("quote_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=12), nullable=True),
        sa.Column("tax_category", sa.String(length=32), nullable=True),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_quote_lines_quantity_positive")),
        sa.ForeignKeyConstraint(["quote_id"], ["quotes.id"], name=op.f("fk_quote_lines_quote_id_quotes")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_quote_lines_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_lines")),
        sa.UniqueConstraint("quote_id", "sku_id", name=op.f("uq_quote_lines_quote_id_sku_id")),
    )


def downgrade() -> None:
    op.drop_table("quote_lines")
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.drop_index("ix_quotes_status_valid_until")
        batch_op.drop_index("ix_quotes_status_id")
        batch_op.drop_index("ix_quotes_customer_id_id")

    op.drop_table("quotes")
    op.drop_table("quote_numbers")
