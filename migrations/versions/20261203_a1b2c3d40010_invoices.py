"""invoices (issue 11)

``legal_entities`` (the sellers), ``document_series`` (gap-free numbering per entity, document type and year),
``invoices`` and ``credit_notes`` with their lines, ``receipts`` (money in or out for an order) and their
``receipt_allocations`` to invoices; channels get ``invoice_policy`` and ``legal_entity``.

Revision ID: a1b2c3d40010
Revises: a1b2c3d40009
Create Date: 2026-12-03 18:42:10.851932
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40010"
down_revision: str | None = "a1b2c3d40009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_entities",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vat_id", sa.String(length=32), nullable=True),
        sa.Column("registration_id", sa.String(length=64), nullable=True),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("iban", sa.String(length=34), nullable=True),
        sa.Column("bic", sa.String(length=11), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_entities")),
        sa.UniqueConstraint("code", name=op.f("uq_legal_entities_code")),
    )
    op.create_table(
        "document_series",
        sa.Column("legal_entity_id", sa.Uuid(), nullable=False),
        sa.Column("doc_type", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"], ["legal_entities.id"], name=op.f("fk_document_series_legal_entity_id_legal_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_series")),
        sa.UniqueConstraint(
            "legal_entity_id", "doc_type", "year", name=op.f("uq_document_series_legal_entity_id_doc_type_year")
        ),
    )
    op.create_table(
        "invoices",
        sa.Column("legal_entity_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_breakdown", sa.JSON(), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=True),
        sa.Column("fx_rate", sa.String(length=40), nullable=True),
        sa.Column("fx_rate_date", sa.Date(), nullable=True),
        sa.Column("base_total_minor", sa.BigInteger(), nullable=True),
        sa.Column("base_tax_minor", sa.BigInteger(), nullable=True),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("credited_minor", sa.BigInteger(), nullable=False),
        sa.Column("written_off_minor", sa.BigInteger(), nullable=False),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        sa.Column("payment_terms", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_invoices_channel_id_channels")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_invoices_customer_id_customers")),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"], ["legal_entities.id"], name=op.f("fk_invoices_legal_entity_id_legal_entities")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_invoices_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["series_id"], ["document_series.id"], name=op.f("fk_invoices_series_id_document_series")
        ),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"], name=op.f("fk_invoices_shipment_id_shipments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("series_id", "sequence", name=op.f("uq_invoices_series_id_sequence")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_customer_id_id", ["customer_id", "id"], unique=False)
        batch_op.create_index("ix_invoices_order_id", ["order_id"], unique=False)
        batch_op.create_index("ix_invoices_shipment_id", ["shipment_id"], unique=False)
        batch_op.create_index("ix_invoices_status_due_date", ["status", "due_date"], unique=False)

    op.create_table(
        "credit_notes",
        sa.Column("legal_entity_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_breakdown", sa.JSON(), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=True),
        sa.Column("fx_rate", sa.String(length=40), nullable=True),
        sa.Column("fx_rate_date", sa.Date(), nullable=True),
        sa.Column("base_total_minor", sa.BigInteger(), nullable=True),
        sa.Column("base_tax_minor", sa.BigInteger(), nullable=True),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_credit_notes_customer_id_customers")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_credit_notes_invoice_id_invoices")),
        sa.ForeignKeyConstraint(
            ["legal_entity_id"], ["legal_entities.id"], name=op.f("fk_credit_notes_legal_entity_id_legal_entities")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_credit_notes_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["series_id"], ["document_series.id"], name=op.f("fk_credit_notes_series_id_document_series")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("number", name=op.f("uq_credit_notes_number")),
        sa.UniqueConstraint("series_id", "sequence", name=op.f("uq_credit_notes_series_id_sequence")),
    )
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.create_index("ix_credit_notes_customer_id_id", ["customer_id", "id"], unique=False)
        batch_op.create_index("ix_credit_notes_invoice_id", ["invoice_id"], unique=False)

    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("order_line_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=12), nullable=False),
        sa.Column("tax_category", sa.String(length=32), nullable=True),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_invoice_lines_order_line_id_order_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_lines_invoice_id", ["invoice_id"], unique=False)

    op.create_table(
        "receipts",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("payment_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=True),
        sa.Column("base_currency", sa.String(length=3), nullable=True),
        sa.Column("base_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("fx_rate", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_receipts_customer_id_customers")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_receipts_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["payment_transaction_id"],
            ["payment_transactions.id"],
            name=op.f("fk_receipts_payment_transaction_id_payment_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("external_id", name=op.f("uq_receipts_external_id")),
        sa.UniqueConstraint("payment_transaction_id", name=op.f("uq_receipts_payment_transaction_id")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index("ix_receipts_customer_id", ["customer_id"], unique=False)
        batch_op.create_index("ix_receipts_order_id", ["order_id"], unique=False)

    op.create_table(
        "credit_note_lines",
        sa.Column("credit_note_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_line_id", sa.Uuid(), nullable=True),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=12), nullable=False),
        sa.Column("tax_category", sa.String(length=32), nullable=True),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_note_id"], ["credit_notes.id"], name=op.f("fk_credit_note_lines_credit_note_id_credit_notes")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_line_id"], ["invoice_lines.id"], name=op.f("fk_credit_note_lines_invoice_line_id_invoice_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_note_lines")),
    )
    with op.batch_alter_table("credit_note_lines", schema=None) as batch_op:
        batch_op.create_index("ix_credit_note_lines_credit_note_id", ["credit_note_id"], unique=False)

    op.create_table(
        "receipt_allocations",
        sa.Column("receipt_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_receipt_allocations_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name=op.f("fk_receipt_allocations_receipt_id_receipts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_allocations")),
    )
    with op.batch_alter_table("receipt_allocations", schema=None) as batch_op:
        batch_op.create_index("ix_receipt_allocations_invoice_id", ["invoice_id"], unique=False)
        batch_op.create_index("ix_receipt_allocations_receipt_id", ["receipt_id"], unique=False)

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_policy", sa.String(length=16), server_default="manual", nullable=False))
        batch_op.add_column(sa.Column("legal_entity", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("legal_entity")
        batch_op.drop_column("invoice_policy")

    with op.batch_alter_table("receipt_allocations", schema=None) as batch_op:
        batch_op.drop_index("ix_receipt_allocations_receipt_id")
        batch_op.drop_index("ix_receipt_allocations_invoice_id")

    op.drop_table("receipt_allocations")
    with op.batch_alter_table("credit_note_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_note_lines_credit_note_id")

    op.drop_table("credit_note_lines")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_order_id")
        batch_op.drop_index("ix_receipts_customer_id")

    op.drop_table("receipts")
    with op.batch_alter_table("invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_lines_invoice_id")

    op.drop_table("invoice_lines")
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_notes_invoice_id")
        batch_op.drop_index("ix_credit_notes_customer_id_id")

    op.drop_table("credit_notes")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_status_due_date")
        batch_op.drop_index("ix_invoices_shipment_id")
        batch_op.drop_index("ix_invoices_order_id")
        batch_op.drop_index("ix_invoices_customer_id_id")

    op.drop_table("invoices")
    op.drop_table("document_series")
    op.drop_table("legal_entities")
