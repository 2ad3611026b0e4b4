"""The secrets-at-rest revision's data step: plaintext stored by the previous revision is sealed on upgrade and
given back on downgrade, on SQLite and PostgreSQL, without losing the rows that hang off the tables it changes.

Alembic is driven directly here (no event loop runs while it does); the rows are written and read with plain SQL.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from oms_api.kit import secrets
from oms_api.kit.db import create_engine
from oms_api.kit.migrations import alembic_config
from tests.conftest import DATABASES, blocking, pg_admin, pg_url

BEFORE = "a1b2c3d40001"
REVISION = "a1b2c3d40002"
KEY = secrets.generate_key()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CURRENT, PREVIOUS, OTHER = ("whsec_" + c * 44 for c in "abc")
INTEGRATIONS = {"shopify": {"webhook_secret": "shpss_plain"}, "woocommerce": {"webhook_secret": "wc plain"}}

ENDPOINTS = sa.table(
    "webhook_endpoints",
    sa.column("id", sa.Uuid()),
    sa.column("event_types", sa.JSON()),
    sa.column("active", sa.Boolean()),
    *(sa.column(name, sa.String()) for name in ("url", "secret", "previous_secret")),
    *(sa.column(name, sa.Integer()) for name in ("consecutive_failures", "version")),
    *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "updated_at")),
)
DELIVERIES = sa.table(
    "webhook_deliveries",
    *(sa.column(name, sa.Uuid()) for name in ("id", "endpoint_id", "event_id", "aggregate_id")),
    *(sa.column(name, sa.String()) for name in ("event_type", "aggregate_type", "origin", "status")),
    *(sa.column(name, sa.Integer()) for name in ("event_seq", "attempt_count")),
    *(sa.column(name, sa.DateTime(timezone=True)) for name in ("next_attempt_at", "created_at")),
)
CHANNELS = sa.table(
    "channels",
    sa.column("id", sa.Uuid()),
    *(sa.column(name, sa.String()) for name in ("code", "name", "type", "default_currency")),
    sa.column("active", sa.Boolean()),
    sa.column("integration_secrets", sa.JSON()),
    sa.column("version", sa.Integer()),
    *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "updated_at")),
)


@pytest.fixture(params=DATABASES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}"
        return
    name = f"oms_test_mig_{uuid.uuid4().hex[:12]}"
    blocking(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(name)
    finally:
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, *statements: Any) -> list[list[Any]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            results = [await connection.execute(s) for s in statements]
            return [list(r) if r.returns_rows else [] for r in results]
    finally:
        await engine.dispose()


def execute(url: str, *statements: Any) -> list[list[Any]]:
    return asyncio.run(_execute(url, *statements))


def seed(url: str) -> dict[str, uuid.UUID]:
    """Rows as the previous revision stores them: secrets in plain text, one delivery hanging off an endpoint."""
    ids = {name: uuid.uuid4() for name in ("rotating", "plain", "delivery", "shop", "json_null", "sql_null")}
    endpoint = {"event_types": ["*"], "active": True, "consecutive_failures": 0}
    endpoint |= {"version": 1, "created_at": NOW, "updated_at": NOW}
    channel = {"name": "Shop", "type": "web", "default_currency": "EUR", "active": True, "version": 1}
    channel |= {"created_at": NOW, "updated_at": NOW}
    execute(
        url,
        ENDPOINTS.insert().values(
            id=ids["rotating"], url="https://example.com/1", secret=CURRENT, previous_secret=PREVIOUS, **endpoint
        ),
        ENDPOINTS.insert().values(
            id=ids["plain"], url="https://example.com/2", secret=OTHER, previous_secret=None, **endpoint
        ),
        DELIVERIES.insert().values(
            id=ids["delivery"],
            endpoint_id=ids["rotating"],
            event_id=uuid.uuid4(),
            aggregate_id=uuid.uuid4(),
            event_type="sku.created",
            aggregate_type="sku",
            origin="fanout",
            status="pending",
            event_seq=1,
            attempt_count=0,
            next_attempt_at=NOW,
            created_at=NOW,
        ),
        CHANNELS.insert().values(id=ids["shop"], code="shop", integration_secrets=INTEGRATIONS, **channel),
        CHANNELS.insert().values(id=ids["json_null"], code="json-null", integration_secrets=None, **channel),
        CHANNELS.insert().values(id=ids["sql_null"], code="sql-null", integration_secrets=sa.null(), **channel),
    )
    return ids


def stored(url: str) -> dict[str, Any]:
    """The secret columns as text, and how many deliveries there are."""
    endpoints, channels, deliveries = execute(
        url,
        sa.text("SELECT url, secret, previous_secret FROM webhook_endpoints ORDER BY url"),
        sa.text("SELECT code, CAST(integration_secrets AS TEXT) FROM channels"),
        sa.text("SELECT count(*) FROM webhook_deliveries"),
    )
    return {
        "endpoints": [(row[1], row[2]) for row in endpoints],
        "channels": {row[0]: row[1] for row in channels},
        "deliveries": deliveries[0][0],
    }


def test_upgrading_seals_stored_plaintext_and_downgrading_gives_it_back(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_SECRET_KEY", KEY)
    config = alembic_config(empty_url)
    command.upgrade(config, BEFORE)
    seed(empty_url)
    before = stored(empty_url)
    assert before["endpoints"] == [(CURRENT, PREVIOUS), (OTHER, None)]
    assert json.loads(before["channels"]["shop"]) == INTEGRATIONS

    command.upgrade(config, REVISION)
    after = stored(empty_url)
    ring = secrets.Keyring(KEY)
    values = [v for pair in after["endpoints"] for v in pair if v is not None] + [after["channels"]["shop"]]
    assert len(values) == 4
    for value in values:
        assert value.startswith(f"enc:v1:{ring.current_id}:")
        for plain in (CURRENT, PREVIOUS, OTHER, "shpss_plain", "wc plain"):
            assert plain not in value
    unsealed = [(ring.unseal(s), p and ring.unseal(p)) for s, p in after["endpoints"]]
    assert unsealed == [(CURRENT, PREVIOUS), (OTHER, None)]
    assert json.loads(ring.unseal(after["channels"]["shop"])) == INTEGRATIONS
    assert after["channels"]["json-null"] is None  # a JSON null holds no secret: stored as NULL
    assert after["channels"]["sql-null"] is None
    assert after["deliveries"] == 1  # the endpoints' table was not rebuilt (which would cascade to deliveries)

    command.downgrade(config, BEFORE)
    restored = stored(empty_url)
    assert restored["endpoints"] == before["endpoints"]
    assert json.loads(restored["channels"]["shop"]) == INTEGRATIONS
    assert restored["deliveries"] == 1


def test_without_a_key_sqlite_seals_with_the_key_file_it_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMS_SECRET_KEY")
    url = f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}"
    command.upgrade(alembic_config(url), BEFORE)
    seed(url)
    command.upgrade(alembic_config(url), REVISION)
    key_file = tmp_path / "oms.db.key"
    assert key_file.is_file()
    ring = secrets.Keyring(key_file.read_text().strip())
    [(current, previous), _] = stored(url)["endpoints"]
    assert (ring.unseal(current), ring.unseal(previous)) == (CURRENT, PREVIOUS)


@pytest.mark.skipif("postgresql" not in DATABASES, reason="OMS_TEST_DATABASES excludes postgresql")
def test_without_a_key_postgresql_refuses_to_migrate_stored_secrets_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OMS_SECRET_KEY")
    name = f"oms_test_mig_{uuid.uuid4().hex[:12]}"
    blocking(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = pg_url(name)
        command.upgrade(alembic_config(url), BEFORE)
        seed(url)
        with pytest.raises(secrets.SecretKeyMissing, match="OMS_SECRET_KEY is not set"):
            command.upgrade(alembic_config(url), REVISION)
        assert stored(url)["endpoints"] == [(CURRENT, PREVIOUS), (OTHER, None)]
        [[version]] = execute(url, sa.text("SELECT version_num FROM alembic_version"))
        assert version == (BEFORE,)
    finally:
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_new_database_migrates_without_a_key(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to seal, nothing to read: a fresh PostgreSQL database needs no key to be created (nor a file made)."""
    monkeypatch.delenv("OMS_SECRET_KEY")
    command.upgrade(alembic_config(empty_url), REVISION)
    command.downgrade(alembic_config(empty_url), BEFORE)
    assert not Path(f"{sa.make_url(empty_url).database}.key").exists()
