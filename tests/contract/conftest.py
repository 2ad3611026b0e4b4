"""Shared pieces of the contract tests: the committed spec, the live spec and a seeded test service.

Contract tests walk whatever routes exist when they run, so they keep holding as contexts add routes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from oms_api.app import create_app
from oms_api.kit.auth import ApiKey, Scope, hash_secret
from oms_api.kit.clock import utcnow
from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.openapi import spec_json
from oms_api.settings import Settings
from tests.conftest import KeyMaker, blocking

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi" / "openapi.json"
REGENERATE_HINT = "run `oms-api openapi` to regenerate openapi/openapi.json and commit it"


def live_spec_json(tmp_dir: Path) -> str:
    """The app's OpenAPI document, formatted exactly as the committed file."""
    return spec_json(create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_dir / 'spec.db'}")))


def committed_spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def operation_ids(spec: dict[str, Any]) -> set[str]:
    return {
        op["operationId"]
        for item in spec.get("paths", {}).values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the operation into schemathesis test ids (``test_x[GET /v1/skus]``).

    Schemathesis 4.32 names its items ``test_x[GET /v1/skus]`` but pytest 9.2 builds node ids from the
    function's original name, so every operation would share one id and failures would not say which.
    """
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if label and node_id is not None and getattr(node_id, "params", "") is None:
            item._id = node_id.with_params(label)


@dataclass
class Service:
    """A migrated SQLite database, an app on it and API keys: one per scope, an admin, a revoked one."""

    database_url: str
    app: FastAPI
    keys: dict[str, str] = field(default_factory=dict)
    revoked_key: str = ""


async def _make_keys(service: Service) -> None:
    make_key = KeyMaker(service.database_url)
    for scope in Scope:
        service.keys[scope.value] = await make_key(scope.value, name=f"key-{scope.value}")
    service.revoked_key = await make_key(Scope.ADMIN.value, name="revoked")
    await _revoke(service.database_url, service.revoked_key)


async def _revoke(database_url: str, secret: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await session.execute(
                update(ApiKey).where(ApiKey.secret_hash == hash_secret(secret)).values(revoked_at=utcnow())
            )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def service(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One SQLite service per test module (contract tests only read, or write rows nobody else asserts on)."""
    path = tmp_path_factory.mktemp("contract") / "oms.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    app = create_app(Settings(database_url=url, log_level="warning"))
    svc = Service(database_url=url, app=app)
    blocking(_make_keys(svc))
    yield svc
    blocking(app.state.db.engine.dispose())
