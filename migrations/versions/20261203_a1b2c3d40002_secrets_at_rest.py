"""encrypted secrets at rest (hardening issue 9, section 7)

Webhook endpoints' signing secrets and channels' storefront secrets become sealed text (``kit.secrets``):
the columns turn into TEXT and every stored value is sealed on upgrade, unsealed on downgrade.

The key is the service's: ``OMS_SECRET_KEY`` (and ``OMS_SECRET_KEY_PREVIOUS``) from the environment or
``.env``; on SQLite without one, the key file beside the database, made here if needed (the service then
finds it). A database with no such values needs no key, so a new PostgreSQL database migrates without one;
one with values refuses clearly rather than store them unreadable.

SQLite cannot change a column's type in place, and rebuilding the table (Alembic's batch mode) would drop
the old one, whose implicit DELETE cascades to webhook deliveries or is refused by orders' foreign keys. So
on SQLite each column is replaced: a new one is added, filled, the old one dropped, the new one renamed
(SQLite 3.35+). PostgreSQL alters the types in place.

Revision ID: a1b2c3d40002
Revises: a1b2c3d40001
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from oms_api.kit import secrets

revision: str = "a1b2c3d40002"
down_revision: str | None = "a1b2c3d40001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, type before, nullable)
COLUMNS: list[tuple[str, str, sa.types.TypeEngine[Any], bool]] = [
    ("webhook_endpoints", "secret", sa.String(length=100), False),
    ("webhook_endpoints", "previous_secret", sa.String(length=100), True),
    ("channels", "integration_secrets", sa.JSON(), True),
]


def _keyring() -> secrets.Keyring:
    from oms_api.settings import Settings

    url = op.get_bind().engine.url.render_as_string(hide_password=False)
    settings = Settings(database_url=url)
    key, previous = settings.secret_key, settings.secret_key_previous
    return secrets.keyring_for(
        url, key.get_secret_value() if key else None, previous.get_secret_value() if previous else None
    )


def _rewrite(table: str, column: str, change: Callable[[secrets.Keyring, str], str | None]) -> None:
    """Apply ``change`` to every non-null value of ``table.column`` (the key is only looked for if one exists)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    if not rows:
        return
    keyring = _keyring()
    updates = [{"id": row_id, "value": change(keyring, value)} for row_id, value in rows]
    bind.execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), updates)


def _seal(keyring: secrets.Keyring, value: str) -> str | None:
    if secrets.is_sealed(value):
        return value
    if value.strip() == "null":  # a JSON null stored by the old JSON column: no secrets at all
        return None
    return keyring.seal(value)


def _unseal(keyring: secrets.Keyring, value: str) -> str:
    return keyring.unseal(value) if secrets.is_sealed(value) else value


def _sqlite_replace(table: str, column: str, type_: sa.types.TypeEngine[Any], nullable: bool) -> None:
    """``column`` of ``table`` with a new type and the same values, without rebuilding the table."""
    staged = f"{column}__new"
    type_sql = type_.compile(dialect=op.get_bind().dialect)
    constraint = "" if nullable else " NOT NULL DEFAULT ''"
    op.execute(f"ALTER TABLE {table} ADD COLUMN {staged} {type_sql}{constraint}")
    op.execute(f"UPDATE {table} SET {staged} = {column}")
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {staged} TO {column}")


def _retype(
    table: str, column: str, old: sa.types.TypeEngine[Any], new: sa.types.TypeEngine[Any], nullable: bool
) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_replace(table, column, new, nullable)
        return
    op.alter_column(
        table,
        column,
        existing_type=old,
        type_=new,
        existing_nullable=nullable,
        postgresql_using=f"{column}::{new.compile(dialect=op.get_bind().dialect).lower()}",
    )


def upgrade() -> None:
    for table, column, old, nullable in COLUMNS:
        _retype(table, column, old, sa.Text(), nullable)  # wider first: a sealed value is ~2.5x its plaintext
        _rewrite(table, column, _seal)


def downgrade() -> None:
    for table, column, old, nullable in COLUMNS:
        _rewrite(table, column, _unseal)
        _retype(table, column, sa.Text(), old, nullable)
