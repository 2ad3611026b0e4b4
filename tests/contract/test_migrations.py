"""The Alembic revisions build exactly the schema the models describe, on SQLite and PostgreSQL.

A model changed without a revision would pass every API test (they run on migrated databases built
from the models' revision) yet break a deployed database; these tests catch that drift.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from oms_api.kit.db import create_engine
from oms_api.kit.migrations import alembic_config, downgrade, head_revision, migrations_dir, upgrade
from oms_api.models import metadata


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
    return list(compare_metadata(context, metadata))


def _snapshot(connection: Connection) -> dict[str, Any]:
    """Tables with their columns, indexes, unique constraints and foreign keys (what a cycle must restore)."""
    inspector = inspect(connection)
    tables: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        tables[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "indexes": sorted((i["name"] or "", tuple(i["column_names"])) for i in inspector.get_indexes(table)),
            "uniques": sorted(
                (u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"]) for f in inspector.get_foreign_keys(table)
            ),
        }
    return tables


async def _run(database_url: str, fn: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(fn)
    finally:
        await engine.dispose()


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    differences = await _run(database_url, _diff)
    assert not differences, (
        "models and migrations differ; regenerate the initial revision (see CONVENTIONS.md):\n"
        + "\n".join(map(str, differences))
    )


async def test_the_database_is_at_the_single_head(database_url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert len(heads) == 1, f"migrations have several heads {heads}: merge them"

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    assert await _run(database_url, current) == head_revision()


async def test_downgrading_to_base_and_upgrading_again_restores_the_schema(database_url: str) -> None:
    before = await _run(database_url, _snapshot)
    assert "orders" in before
    assert "alembic_version" in before

    downgrade(database_url, "base")
    emptied = await _run(database_url, _snapshot)
    assert set(emptied) <= {"alembic_version"}, f"downgrade base left tables behind: {set(emptied)}"

    upgrade(database_url, "head")
    assert await _run(database_url, _snapshot) == before
    assert not await _run(database_url, _diff)


def test_migration_files_are_date_prefixed() -> None:
    files = sorted(p.name for p in (migrations_dir() / "versions").glob("*.py"))
    assert files, "no migration revisions found"
    for name in files:
        match = re.match(r"^(\d{8})_[a-z0-9_]+\.py$", name)
        assert match, f"{name}: revision files are named YYYYMMDD_<rev>_<slug>.py"
        datetime.strptime(match.group(1), "%Y%m%d")  # a real calendar date
