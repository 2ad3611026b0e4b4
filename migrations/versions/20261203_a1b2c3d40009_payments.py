"""payments (issue 10)

``payments`` and their append-only ``payment_transactions`` (a request, then its outcomes; amounts are derived
from them, never stored on the payment), ``gateway_events`` (Stripe's webhooks, stored raw, once per event id),
and the built-in test gateway's own state (``test_gateway_payments``, ``test_gateway_operations``).

Revision ID: a1b2c3d40009
Revises: a1b2c3d40008
Create Date: 2026-12-03 16:39:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40009"
down_revision: str | None = "a1b2c3d40008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("pending_since IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "test_gateway_payments",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("authorized_minor", sa.BigInteger(), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("times_out", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_test_gateway_payments")),
    )
    op.create_table(
        "test_gateway_operations",
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_test_gateway_operations")),
    )
    op.create_table(
        "payments",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_payments_channel_id_channels")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_order_id_id", ["order_id", "id"], unique=False)
        batch_op.create_index("ix_payments_status_id", ["status", "id"], unique=False)
        batch_op.create_index("ix_payments_gateway_reference", ["gateway", "gateway_reference"], unique=False)
        batch_op.create_index(
            "ix_payments_pending_since", ["pending_since"], unique=False, sqlite_where=PENDING, postgresql_where=PENDING
        )
    op.create_table(
        "payment_transactions",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("gateway_reference", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("lines", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("error_code", sa.String(length=100), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("fx_rate", sa.String(length=40), nullable=True),
        sa.Column("fx_rate_date", sa.Date(), nullable=True),
        sa.Column("base_currency", sa.String(length=3), nullable=True),
        sa.Column("base_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_transactions_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["payment_transactions.id"],
            name=op.f("fk_payment_transactions_request_id_payment_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_transactions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_transactions_idempotency_key")),
    )
    with op.batch_alter_table("payment_transactions", schema=None) as batch_op:
        batch_op.create_index("ix_payment_transactions_payment_id_id", ["payment_id", "id"], unique=False)
    op.create_table(
        "gateway_events",
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_gateway_events_payment_id_payments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_events")),
        sa.UniqueConstraint("gateway", "event_id", name=op.f("uq_gateway_events_gateway_event_id")),
    )


def downgrade() -> None:
    op.drop_table("gateway_events")
    with op.batch_alter_table("payment_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_transactions_payment_id_id")
    op.drop_table("payment_transactions")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_pending_since", sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index("ix_payments_gateway_reference")
        batch_op.drop_index("ix_payments_status_id")
        batch_op.drop_index("ix_payments_order_id_id")
    op.drop_table("payments")
    op.drop_table("test_gateway_operations")
    op.drop_table("test_gateway_payments")
