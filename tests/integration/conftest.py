"""Integration fixtures: three real uvicorn processes on one fresh PostgreSQL database per module.

The processes and the database are shared by the module's tests (starting processes is the
slow part); each test seeds its own channel, warehouses and SKUs and scopes its assertions to
them, while the stock invariants are checked over the whole database. The SQLite writers test
builds its own database file and processes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from oms_api.kit.auth import Scope
from tests.conftest import DATABASES, KeyMaker, blocking, pg_admin, pg_url
from tests.support.factories import make_channel, make_warehouse
from tests.support.servers import ApiServers, Deployment, Shop, clients


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


@pytest.fixture
async def shop(deployment: Deployment) -> AsyncIterator[Shop]:
    """A new channel and two new warehouses (``first`` preferred), seeded through the first process."""
    token = await KeyMaker(deployment.database_url)(Scope.ADMIN.value, name="integration")
    api = clients(deployment.servers.urls, token)
    try:
        seed = api[0]
        channel = await make_channel(seed)
        first = await make_warehouse(seed, priority=10)
        second = await make_warehouse(seed, priority=1)
        yield Shop(
            deployment.database_url, api, channel["code"], uuid.UUID(channel["id"]), first["code"], second["code"]
        )
    finally:
        for client in api:
            await client.aclose()
    problems = deployment.servers.problems_in_logs()
    assert not problems, "\n".join(problems[:20])
