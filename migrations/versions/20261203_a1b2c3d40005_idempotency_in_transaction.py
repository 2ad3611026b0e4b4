"""idempotency claim inside the write's transaction (hardening issue 9, section 6)

The claim is now inserted in the request's own transaction and commits together with the stored response, so a
committed row is always a completed one: ``state`` and ``locked_until`` (the time after which a crashed request's
claim could be taken over) have no use left. Claims left "processing" by the previous version are abandoned
requests, which never finished; upgrading deletes them so that their keys are free again.

Revision ID: a1b2c3d40005
Revises: a1b2c3d40004
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1b2c3d40005"
down_revision: str | None = "a1b2c3d40004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    keys = sa.table("idempotency_keys", sa.column("state", sa.String))
    op.execute(keys.delete().where(keys.c.state != "completed"))
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("state")


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="completed"))
        batch_op.add_column(
            sa.Column(
                "locked_until", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()
            )
        )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.alter_column("state", server_default=None)
        batch_op.alter_column("locked_until", server_default=None)
