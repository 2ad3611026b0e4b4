"""Secrets at rest: webhook and storefront secrets are stored sealed, still sign and verify, rotate to a new key,
and the service will not run on PostgreSQL without a key (on SQLite it makes one beside the database).

The database is read with plain SQL, so what these tests see is what a stolen backup would hold.
"""

from __future__ import annotations

import asyncio
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Uuid, bindparam, text

from oms_api.app import create_app
from oms_api.cli import main, resealers
from oms_api.kit import secrets
from oms_api.kit.auth import Scope
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.resealing import Resealed, sealed_columns
from oms_api.models import metadata
from oms_api.settings import Settings, get_settings
from oms_api.worker.runner import Worker
from tests.conftest import KeyMaker
from tests.support import storefronts
from tests.support.factories import make_channel, make_sku
from tests.support.keys import TEST_SECRET_KEY
from tests.support.webhook_receiver import Receiver

OLD_KEY = secrets.generate_key()
NEW_KEY = secrets.generate_key()
WOO_SECRET = "wc-secret-at-rest-1"


def _settings(database_url: str, key: str | None, previous: str | None = None) -> Settings:
    return Settings(
        database_url=database_url,
        log_level="warning",
        db_pool_size=2,
        db_max_overflow=2,
        webhooks_allow_private_networks=True,
        webhooks_retry_schedule="0.05s",
        secret_key=SecretStr(key) if key else None,
        secret_key_previous=SecretStr(previous) if previous else None,
    )


@pytest.fixture
def settings(database_url: str) -> Settings:
    return _settings(database_url, TEST_SECRET_KEY)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def _the_runs_keyring_afterwards() -> Iterator[None]:
    """Tests here install other keys; later tests get the run's own back."""
    yield
    secrets.configure(secrets.Keyring(TEST_SECRET_KEY))
    get_settings.cache_clear()


async def raw(database_url: str, sql: str, **params: Any) -> list[Any]:
    """Rows exactly as stored (plain SQL: nothing is unsealed)."""
    statement = text(sql)
    if "id" in params:
        statement = statement.bindparams(bindparam("id", type_=Uuid))
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list(await connection.execute(statement, params))
    finally:
        await engine.dispose()


async def endpoint_row(database_url: str, endpoint_id: str) -> tuple[str, str | None]:
    [row] = await raw(
        database_url, "SELECT secret, previous_secret FROM webhook_endpoints WHERE id = :id", id=uuid.UUID(endpoint_id)
    )
    return row[0], row[1]


async def channel_secrets(database_url: str, code: str) -> str | None:
    [row] = await raw(database_url, "SELECT integration_secrets FROM channels WHERE code = :code", code=code)
    return row[0]  # type: ignore[no-any-return]


def sealed_with(value: str | None, key: str) -> bool:
    return value is not None and value.startswith(f"enc:v1:{secrets.key_id(key)}:")


# --- what is stored ---------------------------------------------------------------------------------------------


async def test_webhook_secrets_are_stored_sealed_and_deliveries_verify_with_them(
    api: httpx.AsyncClient, app: FastAPI, settings: Settings, database_url: str, receiver: Receiver
) -> None:
    created = await api.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["sku.created"]})
    assert created.status_code == 201, created.text
    endpoint_id, first = created.json()["id"], created.json()["secret"]
    stored, previous = await endpoint_row(database_url, endpoint_id)
    assert sealed_with(stored, TEST_SECRET_KEY)
    assert previous is None
    assert first not in stored
    assert first.removeprefix("whsec_") not in stored

    rotated = await api.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["secret"]
    stored, previous = await endpoint_row(database_url, endpoint_id)
    assert sealed_with(stored, TEST_SECRET_KEY)
    assert sealed_with(previous, TEST_SECRET_KEY)
    for value in (stored, previous):
        assert value is not None
        assert first not in value
        assert second not in value
    assert secrets.Keyring(TEST_SECRET_KEY).unseal(stored) == second
    assert secrets.Keyring(TEST_SECRET_KEY).unseal(previous or "") == first

    for path in (f"/v1/webhook-endpoints/{endpoint_id}", "/v1/webhook-endpoints"):
        shown = await api.get(path)
        assert shown.status_code == 200
        assert first not in shown.text
        assert second not in shown.text

    receiver.secrets.extend([first, second])
    worker = Worker(settings, app.state.db.sessions, name="secrets-test", jobs=[])
    try:
        await make_sku(api)
        deadline = time.monotonic() + 10
        while not receiver.accepted():
            assert time.monotonic() < deadline, "the delivery did not arrive"
            await worker.drain()
            await asyncio.sleep(0.02)
    finally:
        await worker.client.aclose()
    [got] = receiver.accepted()
    assert got.verified_with == [0, 1]  # signed with the unsealed current and previous secrets


async def test_storefront_secrets_are_stored_sealed_and_still_verify_deliveries(
    api: httpx.AsyncClient, app: FastAPI, database_url: str
) -> None:
    integrations = {
        "shopify": {"webhook_secret": storefronts.SHOPIFY_SECRET},
        "woocommerce": {"webhook_secret": WOO_SECRET},
    }
    channel = await make_channel(api, integrations=integrations)
    assert channel["configured_integrations"] == ["shopify", "woocommerce"]
    stored = await channel_secrets(database_url, channel["code"])
    assert sealed_with(stored, TEST_SECRET_KEY)
    assert stored is not None
    for plain in (storefronts.SHOPIFY_SECRET, WOO_SECRET, "webhook_secret", "shopify"):
        assert plain not in stored

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms.test") as shop:
        assert await _shopify_status(shop, channel["code"]) == 200
        assert await _shopify_status(shop, channel["code"], secret="not-the-secret") == 401
    shown = await api.get(f"/v1/channels/{channel['code']}")
    assert storefronts.SHOPIFY_SECRET not in shown.text
    assert WOO_SECRET not in shown.text

    removed = await api.patch(f"/v1/channels/{channel['code']}", json={"integrations": {"shopify": None}})
    assert removed.status_code == 200, removed.text
    stored = await channel_secrets(database_url, channel["code"])
    assert sealed_with(stored, TEST_SECRET_KEY)
    assert stored is not None
    assert WOO_SECRET not in stored
    bare = await make_channel(api)
    assert await channel_secrets(database_url, bare["code"]) is None  # nothing to seal: NULL


async def _shopify_status(shop: httpx.AsyncClient, channel: str, secret: str = storefronts.SHOPIFY_SECRET) -> int:
    payload = storefronts.load("shopify/orders_create.json")
    response = await storefronts.shopify(shop, channel, payload, topic="orders/updated", secret=secret)
    return response.status_code


# --- rotation ---------------------------------------------------------------------------------------------------


async def _seed(database_url: str) -> dict[str, str]:
    """Under OLD_KEY: an endpoint in its rotation overlap (two secrets) and a channel with a storefront secret."""
    app = create_app(_settings(database_url, OLD_KEY))
    token = await KeyMaker(database_url)(Scope.ADMIN.value, name="rotation")
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://oms.test", headers={"Authorization": f"Bearer {token}"}
        ) as api:
            created = (await api.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook"})).json()
            rotated = (await api.post(f"/v1/webhook-endpoints/{created['id']}/rotate-secret")).json()
            channel = await make_channel(api, integrations={"shopify": {"webhook_secret": storefronts.SHOPIFY_SECRET}})
    finally:
        await app.state.db.engine.dispose()
    return {
        "endpoint": created["id"],
        "previous": created["secret"],
        "current": rotated["secret"],
        "channel": channel["code"],
        "token": token,
    }


async def _with_keys(database_url: str, token: str, channel: str, key: str, previous: str | None) -> dict[str, Any]:
    """What an app running with these keys can do: verify a storefront delivery, and make a new channel."""
    app = create_app(_settings(database_url, key, previous))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://oms.test", headers={"Authorization": f"Bearer {token}"}
        ) as api:
            verified = await _shopify_status(api, channel)
            made = await make_channel(api, integrations={"woocommerce": {"webhook_secret": WOO_SECRET}})
    finally:
        await app.state.db.engine.dispose()
    return {"verified": verified, "channel": made["code"]}


def _all_sealed(database_url: str) -> list[str]:
    async def read() -> list[str]:
        rows = await raw(database_url, "SELECT secret, previous_secret FROM webhook_endpoints")
        rows += await raw(database_url, "SELECT integration_secrets, NULL FROM channels")
        return [value for row in rows for value in row if value is not None]

    return asyncio.run(read())


def test_rotation_re_encrypts_every_secret_under_the_new_key_and_both_keys_work_meanwhile(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = asyncio.run(_seed(database_url))
    assert all(sealed_with(v, OLD_KEY) for v in _all_sealed(database_url))

    # Meanwhile: the new key seals, and values under the old one still read.
    during = asyncio.run(_with_keys(database_url, seeded["token"], seeded["channel"], NEW_KEY, OLD_KEY))
    assert during["verified"] == 200
    assert sealed_with(asyncio.run(channel_secrets(database_url, during["channel"])), NEW_KEY)

    monkeypatch.setenv("OMS_DATABASE_URL", database_url)
    monkeypatch.setenv("OMS_SECRET_KEY", NEW_KEY)
    monkeypatch.setenv("OMS_SECRET_KEY_PREVIOUS", OLD_KEY)
    get_settings.cache_clear()
    assert main(["secrets", "rotate", "--batch-size", "1"]) == 0  # batches of one row: several transactions
    out = capsys.readouterr().out
    assert "webhook_endpoints: 2 re-encrypted, 0 already under the current key" in out
    assert "channels: 1 re-encrypted, 1 already under the current key" in out

    values = _all_sealed(database_url)
    assert len(values) == 4
    assert all(sealed_with(v, NEW_KEY) for v in values)
    new_only = secrets.Keyring(NEW_KEY)
    stored, previous = asyncio.run(endpoint_row(database_url, seeded["endpoint"]))
    assert new_only.unseal(stored) == seeded["current"]
    assert new_only.unseal(previous or "") == seeded["previous"]
    with pytest.raises(secrets.SecretUnreadable):
        secrets.Keyring(OLD_KEY).unseal(stored)

    assert main(["secrets", "rotate"]) == 0  # again: nothing left to do
    out = capsys.readouterr().out
    assert "webhook_endpoints: 0 re-encrypted, 2 already under the current key" in out
    assert "channels: 0 re-encrypted, 2 already under the current key" in out

    # Afterwards the old key is not needed any more.
    after = asyncio.run(_with_keys(database_url, seeded["token"], seeded["channel"], NEW_KEY, None))
    assert after["verified"] == 200


def test_rotation_stops_on_a_value_no_configured_key_can_read(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed(database_url))
    monkeypatch.setenv("OMS_DATABASE_URL", database_url)
    monkeypatch.setenv("OMS_SECRET_KEY", NEW_KEY)  # and no OMS_SECRET_KEY_PREVIOUS
    get_settings.cache_clear()
    assert main(["secrets", "rotate"]) == 1
    err = capsys.readouterr().err
    assert "channels.integration_secrets of row" in err
    assert secrets.key_id(OLD_KEY) in err
    assert "OMS_SECRET_KEY_PREVIOUS" in err
    assert all(sealed_with(v, OLD_KEY) for v in _all_sealed(database_url))  # nothing was changed


def test_rotation_covers_every_sealed_column(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "oms.db"
    shutil.copyfile(sqlite_template, path)

    async def rotate() -> list[Resealed]:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            return [await reseal(session_factory(engine), 100) for reseal in resealers()]
        finally:
            await engine.dispose()

    sealed_tables = {table.name for table in metadata.sorted_tables if sealed_columns(table)}
    assert sealed_tables == {"webhook_endpoints", "channels"}
    assert sorted(r.table for r in asyncio.run(rotate())) == sorted(sealed_tables)


# --- without a key ----------------------------------------------------------------------------------------------


def test_without_a_key_the_service_refuses_to_start_on_postgresql(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OMS_SECRET_KEY")
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/oms_never_created"
    settings = _settings(url, None)
    with pytest.raises(secrets.SecretKeyMissing, match="OMS_SECRET_KEY is not set"):
        create_app(settings)
    with pytest.raises(secrets.SecretKeyMissing, match="OMS_SECRET_KEY is not set"):
        Worker(settings)
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    get_settings.cache_clear()
    for command in (["serve"], ["worker"], ["secrets", "rotate"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "OMS_SECRET_KEY is not set" in err, err
        assert "oms-api secrets generate-key" in err


async def test_without_a_key_sqlite_makes_a_key_file_at_startup_says_so_and_keeps_using_it(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OMS_SECRET_KEY")
    captured = structlog.testing.CapturingLogger()
    monkeypatch.setattr(
        secrets, "log", structlog.wrap_logger(captured, processors=[], wrapper_class=structlog.BoundLogger)
    )
    database = tmp_path / "oms.db"
    shutil.copyfile(sqlite_template, database)
    key_file = tmp_path / "oms.db.key"
    url = f"sqlite+aiosqlite:///{database}"

    token = await KeyMaker(url)(Scope.ADMIN.value)
    app = create_app(_settings(url, None))
    assert not key_file.exists()  # building an app (`oms-api openapi`) makes no file
    async with app.router.lifespan_context(app):  # what `serve` runs at startup
        assert key_file.is_file()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        [call] = [c for c in captured.calls if c.kwargs.get("event") == "secret_key_generated"]
        assert call.method_name == "warning"
        assert call.kwargs["path"] == str(key_file)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://oms.test", headers={"Authorization": f"Bearer {token}"}
        ) as api:
            integrations = {"shopify": {"webhook_secret": storefronts.SHOPIFY_SECRET}}
            channel = await make_channel(api, integrations=integrations)
    key = key_file.read_text().strip()
    assert sealed_with(await channel_secrets(url, channel["code"]), key)

    secrets.configure(None)  # as a process started later would be
    again = create_app(_settings(url, None))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=again), base_url="http://oms.test") as shop:
            assert await _shopify_status(shop, channel["code"]) == 200
    finally:
        await again.state.db.engine.dispose()
    assert key_file.read_text().strip() == key
    assert len([c for c in captured.calls if c.kwargs.get("event") == "secret_key_generated"]) == 1
