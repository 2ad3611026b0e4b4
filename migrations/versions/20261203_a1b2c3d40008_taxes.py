"""taxes (issue 10): tax categories (the built-in four seeded), tax rates, and each SKU's tax category

Revision ID: a1b2c3d40008
Revises: a1b2c3d40007
Create Date: 2026-12-03 16:38:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40008"
down_revision: str | None = "a1b2c3d40007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUILTIN = [
    ("00000000-0000-7000-8000-000000000001", "standard", "Standard rate", "Most goods: the country's standard rate."),
    (
        "00000000-0000-7000-8000-000000000002",
        "reduced",
        "Reduced rate",
        "Goods taxed at a reduced rate (food, books…).",
    ),
    ("00000000-0000-7000-8000-000000000003", "zero", "Zero rate", "Zero-rated goods: taxed at 0 %."),
    ("00000000-0000-7000-8000-000000000004", "exempt", "Exempt", "Exempt goods: no tax, shown as exempt."),
]
"""Fixed ids (time-ordered before any uuid7), so that every database has the same rows and lists show them first."""


def upgrade() -> None:
    categories = op.create_table(
        "tax_categories",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_tax_categories_code")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        categories,
        [
            {
                "id": uuid.UUID(id_),
                "code": code,
                "name": name,
                "description": description,
                "builtin": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for id_, code, name, description in BUILTIN
        ],
    )
    op.create_table(
        "tax_rates",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("rate_ppm", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rate_ppm >= 0 AND rate_ppm < 1000000", name=op.f("ck_tax_rates_rate_is_a_fraction")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_tax_rates_valid_to_after_valid_from")
        ),
        sa.ForeignKeyConstraint(
            ["category"], ["tax_categories.code"], name=op.f("fk_tax_rates_category_tax_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
    )
    with op.batch_alter_table("tax_rates", schema=None) as batch_op:
        batch_op.create_index("ix_tax_rates_country_id", ["country", "id"], unique=False)
        batch_op.create_index("ix_tax_rates_region_id", ["region", "id"], unique=False)
        batch_op.create_index("ix_tax_rates_category_id", ["category", "id"], unique=False)
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_category", sa.String(length=32), nullable=False, server_default="standard"))
        batch_op.create_index("ix_skus_tax_category_id", ["tax_category", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index("ix_skus_tax_category_id")
        batch_op.drop_column("tax_category")
    with op.batch_alter_table("tax_rates", schema=None) as batch_op:
        batch_op.drop_index("ix_tax_rates_category_id")
        batch_op.drop_index("ix_tax_rates_region_id")
        batch_op.drop_index("ix_tax_rates_country_id")
    op.drop_table("tax_rates")
    op.drop_table("tax_categories")
