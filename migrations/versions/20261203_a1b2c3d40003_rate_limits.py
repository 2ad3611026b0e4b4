"""rate limits per API key (hardening issue 9, section 4)

Each API key may carry its own rate limit (``rate_limit_per_second``, ``rate_limit_burst``; NULL: the service's
default from ``OMS_RATE_LIMIT_*``). ``rate_limit_buckets`` holds the GCRA state that every API process shares
on PostgreSQL (``kit.ratelimit``); it is UNLOGGED there (a crash only forgets who was throttled, and no WAL is
written per request). SQLite keeps its buckets in memory, so the table stays empty there.

Revision ID: a1b2c3d40003
Revises: a1b2c3d40002
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40003"
down_revision: str | None = "a1b2c3d40002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("rate_limit_per_second", sa.Float(), nullable=True))
    op.add_column("api_keys", sa.Column("rate_limit_burst", sa.Integer(), nullable=True))
    op.create_table(
        "rate_limit_buckets",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_rate_limit_buckets")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE rate_limit_buckets SET UNLOGGED")


def downgrade() -> None:
    op.drop_table("rate_limit_buckets")
    op.drop_column("api_keys", "rate_limit_burst")
    op.drop_column("api_keys", "rate_limit_per_second")
