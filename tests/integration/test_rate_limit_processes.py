"""Two real API processes on one PostgreSQL database share one key's budget: 429 with Retry-After from either.

Each process checks the key's bucket in ``rate_limit_buckets`` with one atomic statement, timed by the database's
clock, so the pair admits exactly what one process would. With per-process buckets each would let the whole
burst in (twice the budget); the test alternates the processes, so that would show as twice the successes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oms_api.kit.auth import KeyRateLimit, Scope, create_api_key
from oms_api.kit.db import create_engine, session_factory, session_scope
from tests.conftest import DATABASES, blocking, pg_admin, pg_url
from tests.support.servers import ApiServers

pytestmark = pytest.mark.slow

BURST = 4
SLOW = 0.01
"""One request per 100 s: nothing refills while the test runs, so the counts are exact."""


@pytest.fixture
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApiServers]:
    """Two API processes with rate limiting on (the suite's servers run with it off)."""
    if "postgresql" not in DATABASES:
        pytest.skip("OMS_TEST_DATABASES excludes postgresql")
    template: str = request.getfixturevalue("pg_template")
    name = f"oms_it_{uuid.uuid4().hex[:16]}"
    blocking(pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    api = ApiServers(
        pg_url(name),
        tmp_path / "servers",
        count=2,
        extra_env={"OMS_RATE_LIMIT_PER_SECOND": "100", "OMS_RATE_LIMIT_BURST": "200"},
    )
    try:
        api.start()
        yield api
    finally:
        api.stop()
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def limited_key(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            _, secret = await create_api_key(session, "shared", [Scope.CATALOG_READ.value], KeyRateLimit(SLOW, BURST))
    finally:
        await engine.dispose()
    return secret


async def test_two_processes_share_one_keys_budget(servers: ApiServers) -> None:
    secret = await limited_key(servers.database_url)
    headers = {"Authorization": f"Bearer {secret}"}
    answers: list[tuple[int, httpx.Response]] = []
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        for n in range(2 * BURST):
            process = n % 2
            answers.append((process, await client.get(f"{servers.urls[process]}/v1/skus")))

    statuses = [response.status_code for _, response in answers]
    assert statuses == [200] * BURST + [429] * BURST, statuses
    refused = [(process, response) for process, response in answers if response.status_code == 429]
    assert {process for process, _ in refused} == {0, 1}  # each process refuses what the other let in
    for _, response in refused:
        assert response.json()["code"] == "rate_limited"
        assert 1 <= int(response.headers["retry-after"]) <= int(1 / SLOW)
        assert response.headers["ratelimit"].startswith('"api-key";r=0;')
        assert response.headers["ratelimit-policy"] == f'"api-key";q={BURST};w={int(BURST / SLOW)}'
    remaining = [response.headers["ratelimit"].split(";")[1] for _, response in answers[:BURST]]
    assert remaining == [f"r={BURST - 1 - n}" for n in range(BURST)]  # one count across both processes
    assert not servers.problems_in_logs()
