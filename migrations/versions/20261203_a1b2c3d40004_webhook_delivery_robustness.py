"""webhook delivery per endpoint budgets, dead-letter order (hardening issue 9, section 5)

- ``webhook_endpoints.circuit_failures`` / ``circuit_open_until``: each endpoint's circuit breaker.
- ``webhook_deliveries.resolution`` / ``resolved_at``: a dead letter redelivered or skipped by hand. Until
  then it holds back its resource's later events, so ``ix_webhook_deliveries_in_order`` now also covers
  unresolved dead letters. Dead letters made before this revision did not hold anything back; they are
  marked ``skipped`` (still listed and redeliverable) so that the upgrade does not stop events of their
  resources that later changes raise.
- ``ix_webhook_deliveries_claimed``: deliveries in flight per endpoint (one probe through a half-open circuit);
  ``ix_webhook_deliveries_endpoint_due``: an endpoint's due deliveries in order (the claim takes a few per endpoint).
- ``webhook_attempts.duration_ms`` becomes nullable: an attempt is written when it starts.

SQLite: columns are added and dropped in place (3.35+); the tables are not rebuilt, since dropping
``webhook_deliveries`` would cascade to its attempts. The one change of nullability replaces the column.

Revision ID: a1b2c3d40004
Revises: a1b2c3d40003
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40004"
down_revision: str | None = "a1b2c3d40003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "status = 'pending'"
HOLDS_ORDER = "status = 'pending' OR (status = 'failed' AND resolution IS NULL)"
CLAIMED = "claim_token IS NOT NULL"
IN_ORDER_COLUMNS = ["endpoint_id", "aggregate_id", "event_seq"]


def _in_order_index(where: str) -> None:
    op.create_index(
        "ix_webhook_deliveries_in_order",
        "webhook_deliveries",
        IN_ORDER_COLUMNS,
        unique=False,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def _duration_nullable(nullable: bool) -> None:
    """``webhook_attempts.duration_ms`` nullable or not (a NULL becomes 0 on the way back)."""
    if not nullable:
        op.execute("UPDATE webhook_attempts SET duration_ms = 0 WHERE duration_ms IS NULL")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("webhook_attempts", "duration_ms", existing_type=sa.Integer(), nullable=nullable)
        return
    constraint = "" if nullable else " NOT NULL DEFAULT 0"
    op.execute(f"ALTER TABLE webhook_attempts ADD COLUMN duration_ms__new INTEGER{constraint}")
    op.execute("UPDATE webhook_attempts SET duration_ms__new = duration_ms")
    op.execute("ALTER TABLE webhook_attempts DROP COLUMN duration_ms")
    op.execute("ALTER TABLE webhook_attempts RENAME COLUMN duration_ms__new TO duration_ms")


def upgrade() -> None:
    op.add_column(
        "webhook_endpoints",
        sa.Column("circuit_failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("webhook_endpoints", sa.Column("circuit_open_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("webhook_deliveries", sa.Column("resolution", sa.String(length=16), nullable=True))
    op.add_column("webhook_deliveries", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        sa.text(
            "UPDATE webhook_deliveries SET resolution = 'skipped', resolved_at = finished_at WHERE status = 'failed'"
        )
    )
    op.drop_index("ix_webhook_deliveries_in_order", table_name="webhook_deliveries")
    _in_order_index(HOLDS_ORDER)
    op.create_index(
        "ix_webhook_deliveries_claimed",
        "webhook_deliveries",
        ["endpoint_id"],
        unique=False,
        sqlite_where=sa.text(CLAIMED),
        postgresql_where=sa.text(CLAIMED),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_due",
        "webhook_deliveries",
        ["endpoint_id", "next_attempt_at", "event_seq"],
        unique=False,
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    _duration_nullable(True)


def downgrade() -> None:
    _duration_nullable(False)
    op.drop_index("ix_webhook_deliveries_endpoint_due", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_claimed", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_in_order", table_name="webhook_deliveries")  # it names resolution
    _in_order_index(PENDING)
    op.drop_column("webhook_deliveries", "resolved_at")
    op.drop_column("webhook_deliveries", "resolution")
    op.drop_column("webhook_endpoints", "circuit_open_until")
    op.drop_column("webhook_endpoints", "circuit_failures")
