"""B2B customers: company VAT id, payment terms, credit limit (issue 11)

``customers`` get ``vat_id``, ``payment_terms`` (JSON) and ``credit_limit_minor`` (base currency); ``invoices``
get ``written_off_on`` so that AR aging as of a past date leaves out later write-offs.

Revision ID: a1b2c3d40011
Revises: a1b2c3d40010
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40011"
down_revision: str | None = "a1b2c3d40010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vat_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("payment_terms", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("credit_limit_minor", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("written_off_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("written_off_on")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("credit_limit_minor")
        batch_op.drop_column("payment_terms")
        batch_op.drop_column("vat_id")
