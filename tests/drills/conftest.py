"""Drill fixtures: a fresh PostgreSQL database per drill, made from the migrated template."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import DATABASES, blocking, pg_admin, pg_url


@pytest.fixture
async def database(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    if "postgresql" not in DATABASES:
        pytest.skip("OMS_TEST_DATABASES excludes postgresql")
    template: str = request.getfixturevalue("pg_template")
    name = f"oms_drill_{uuid.uuid4().hex[:16]}"
    await pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield pg_url(name)
    finally:
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
