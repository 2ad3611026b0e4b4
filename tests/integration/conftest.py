"""Integration fixtures: three real uvicorn processes on one fresh PostgreSQL database per module.

The processes and the database are shared by the module's tests (starting processes is the
slow part); each test seeds its own channel, warehouses and SKUs and scopes its assertions to
them, while the stock invariants are checked over the whole database. The SQLite writers test
builds its own database file and processes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import DATABASES, blocking, pg_admin, pg_url
from tests.integration.support import ApiServers, Deployment


@pytest.fixture(scope="module")
def deployment(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Three API processes on a database made from the migrated template, stopped and dropped whatever happens."""
    if "postgresql" not in DATABASES:
        pytest.skip("OMS_TEST_DATABASES excludes postgresql")
    template: str = request.getfixturevalue("pg_template")
    name = f"oms_it_{uuid.uuid4().hex[:16]}"
    blocking(pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    servers = ApiServers(pg_url(name), tmp_path_factory.mktemp("servers"), count=3)
    try:
        servers.start()
        yield Deployment(pg_url(name), servers)
    finally:
        servers.stop()
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
