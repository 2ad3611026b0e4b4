"""Drill: PostgreSQL restarts under load, and the service rides it out without being restarted.

The test runs its own cluster (in a temporary directory, on a free port) so that it can stop it; two
API processes serve 40 closed-loop clients while the cluster goes down for a few seconds and comes back.
While it is down every request is answered as a 503 problem with ``Retry-After`` (never a 500, never a
hung or dropped connection); afterwards every process serves again, every acknowledged order is there
exactly once, and the ledger replays.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import select

from oms_api.kit.auth import Scope
from oms_api.kit.migrations import upgrade
from oms_api.orders.models import Order
from tests.conftest import DATABASES, KeyMaker
from tests.drills.cluster import TempCluster
from tests.drills.load import Load
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.ledger import assert_ledger_replays
from tests.support.servers import ApiServers, query

pytestmark = pytest.mark.slow

DOWN_SECONDS = 4.0


@pytest.fixture
def cluster() -> Iterator[TempCluster]:
    if "postgresql" not in DATABASES:
        pytest.skip("OMS_TEST_DATABASES excludes postgresql")
    own = TempCluster(Path(tempfile.mkdtemp(prefix="oms-drill-pg-"))).init()
    own.start()
    try:
        yield own
    finally:
        own.destroy()


@pytest.fixture
async def served(cluster: TempCluster, tmp_path: Path) -> AsyncIterator[tuple[ApiServers, str]]:
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute('CREATE DATABASE "oms"')
    finally:
        await conn.close()
    url = cluster.url("oms")
    await asyncio.to_thread(upgrade, url)
    servers = ApiServers(url, tmp_path / "servers", count=2)
    try:
        await asyncio.to_thread(servers.start)
        yield servers, url
    finally:
        await asyncio.to_thread(servers.stop)


async def test_requests_answer_503_while_postgresql_is_down_and_succeed_again_after(
    cluster: TempCluster, served: tuple[ApiServers, str]
) -> None:
    servers, url = served
    token = await KeyMaker(url)(Scope.ADMIN.value, name="drill")
    async with httpx.AsyncClient(base_url=servers.urls[0], headers={"Authorization": f"Bearer {token}"}) as seed:
        channel = (await make_channel(seed))["code"]
        warehouse = (await make_warehouse(seed))["code"]
        sku = (await make_sku(seed))["sku"]
        await receive(seed, sku, warehouse, 1_000_000)
    load = Load(servers.urls, token, channel, [[(sku, 1)]], clients=40)
    window: dict[str, float] = {}

    async def restart() -> None:
        await asyncio.sleep(4)
        window["down"] = asyncio.get_running_loop().time()
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(cluster.start)
        window["up"] = asyncio.get_running_loop().time()

    await load.run(for_seconds=18, during=restart())

    statuses = Counter(a.status for a in load.answers)
    assert not [a for a in load.answers if a.error], [a for a in load.answers if a.error][:5]
    assert set(statuses) <= {201, 503}, statuses
    unavailable = [a for a in load.answers if a.status == 503]
    assert unavailable, f"no request met the outage: {statuses}"
    assert all(
        a.code == "database_unavailable" and a.retry_after and a.media_type == "application/problem+json"
        for a in unavailable
    ), unavailable[:3]
    late = [a for a in unavailable if a.at > window["up"] + 5]
    assert not late, f"still failing 5 s after PostgreSQL came back: {late[:3]}"

    # Every process serves again without a restart, and nothing acknowledged was lost or doubled.
    for base in servers.urls:
        async with httpx.AsyncClient(base_url=base) as probe:
            assert (await probe.get("/readyz")).status_code == 200
    refs = [row.external_ref for row in await query(url, select(Order.external_ref))]
    assert len(refs) == len(set(refs))
    assert set(load.acknowledged) <= set(refs)
    assert len(load.acknowledged) > 0
    await assert_ledger_replays(url)
    assert not servers.problems_in_logs(), servers.problems_in_logs()[:10]
