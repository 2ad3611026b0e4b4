"""the accounting journal: accounts, journal entries and lines, exports (issue 11)

Revision ID: a1b2c3d40012
Revises: a1b2c3d40011
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40012"
down_revision: str | None = "a1b2c3d40011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("qualifier", sa.String(length=32), nullable=False),
        sa.Column("quickbooks_account", sa.String(length=64), nullable=True),
        sa.Column("xero_code", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
        sa.UniqueConstraint("role", "qualifier", name=op.f("uq_accounts_role_qualifier")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("source_type", sa.String(length=24), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("fx_rate", sa.String(length=40), nullable=True),
        sa.Column("base_pending", sa.Boolean(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("document", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["journal_entries.id"], name=op.f("fk_journal_entries_reverses_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint(
            "source_type", "source_id", "kind", name=op.f("uq_journal_entries_source_type_source_id_kind")
        ),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index("ix_journal_entries_source_type_id", ["source_type", "id"], unique=False)
        batch_op.create_index("ix_journal_entries_order_id_id", ["order_id", "id"], unique=False)
        batch_op.create_index("ix_journal_entries_occurred_on_id", ["occurred_on", "id"], unique=False)
    op.create_table(
        "journal_lines",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("debit_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
        sa.Column("base_debit_minor", sa.BigInteger(), nullable=True),
        sa.Column("base_credit_minor", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_journal_lines_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_journal_lines_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_lines")),
    )
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.create_index("ix_journal_lines_entry_id_line_no", ["entry_id", "line_no"], unique=False)
        batch_op.create_index("ix_journal_lines_order_id_account_id", ["order_id", "account_id"], unique=False)
        batch_op.create_index("ix_journal_lines_account_id_id", ["account_id", "id"], unique=False)
    op.create_table(
        "export_batches",
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_batches")),
        sa.UniqueConstraint(
            "format", "since", "until", "generation", name=op.f("uq_export_batches_format_since_until_generation")
        ),
    )
    op.create_table(
        "exported_entries",
        sa.Column("batch_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["export_batches.id"], name=op.f("fk_exported_entries_batch_id_export_batches")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_exported_entries_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("batch_id", "entry_id", name=op.f("pk_exported_entries")),
    )
    with op.batch_alter_table("exported_entries", schema=None) as batch_op:
        batch_op.create_index("ix_exported_entries_format_entry_id", ["format", "entry_id"], unique=False)
    op.create_table(
        "accounting_notifications",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("change_key", sa.String(length=255), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_notifications")),
        sa.UniqueConstraint("source", "change_key", name=op.f("uq_accounting_notifications_source_change_key")),
    )


def downgrade() -> None:
    op.drop_table("accounting_notifications")
    with op.batch_alter_table("exported_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_exported_entries_format_entry_id")
    op.drop_table("exported_entries")
    op.drop_table("export_batches")
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_lines_account_id_id")
        batch_op.drop_index("ix_journal_lines_order_id_account_id")
        batch_op.drop_index("ix_journal_lines_entry_id_line_no")
    op.drop_table("journal_lines")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_occurred_on_id")
        batch_op.drop_index("ix_journal_entries_order_id_id")
        batch_op.drop_index("ix_journal_entries_source_type_id")
    op.drop_table("journal_entries")
    op.drop_table("accounts")
