"""An API process SIGKILLed while it holds an Idempotency-Key: a retry on another process proceeds at once.

The claim is part of the request's transaction, so PostgreSQL rolls it back when the dead process's connection
drops. The test holds the SKU's stock levels row-locked, so that the placement blocks after claiming the key,
mid-transaction; kills the process; and retries the same key on the other process once the dead one's backend
is gone. Before, the claim had committed on its own and the retry got 409 ``idempotency_in_progress`` for 60 s.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import select

from oms_api.kit.auth import Scope
from oms_api.orders.models import Order
from tests.conftest import DATABASES, KeyMaker, blocking, pg_admin, pg_url
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.ledger import assert_ledger_replays
from tests.support.servers import ApiServers, levels_of, order_body, query

pytestmark = pytest.mark.slow

WAIT_SECONDS = 30.0
POLL_SECONDS = 0.02


@pytest.fixture
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ApiServers]:
    """Two API processes on a database of their own (one of them is killed)."""
    if "postgresql" not in DATABASES:
        pytest.skip("OMS_TEST_DATABASES excludes postgresql")
    template: str = request.getfixturevalue("pg_template")
    name = f"oms_it_{uuid.uuid4().hex[:16]}"
    blocking(pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    api = ApiServers(pg_url(name), tmp_path / "servers", count=2)
    try:
        api.start()
        yield api
    finally:
        api.stop()
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def connect(servers: ApiServers) -> asyncpg.Connection:
    return await asyncpg.connect(servers.database_url.replace("postgresql+asyncpg://", "postgresql://", 1))


@pytest.fixture
async def admin(servers: ApiServers) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(servers)
    try:
        yield conn
    finally:
        await conn.close()


async def until(admin: asyncpg.Connection, sql: str) -> int:
    """Poll ``sql`` (a pid or NULL) until it gives a pid, or fail after ``WAIT_SECONDS``.

    Each poll is its own transaction: ``pg_stat_activity`` is a snapshot taken once per transaction.
    """
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            pid = await admin.fetchval(sql)
            if pid is not None:
                return int(pid)
            await asyncio.sleep(POLL_SECONDS)


LOCK_WAITER = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


async def test_a_retry_after_the_claiming_process_is_killed_proceeds_at_once(
    servers: ApiServers, admin: asyncpg.Connection
) -> None:
    token = await KeyMaker(servers.database_url)(Scope.ADMIN.value, name="crash")
    auth = {"Authorization": f"Bearer {token}"}
    doomed, survivor = servers.processes
    async with (
        httpx.AsyncClient(base_url=doomed.url, headers=auth, timeout=WAIT_SECONDS) as to_doomed,
        httpx.AsyncClient(base_url=survivor.url, headers=auth, timeout=WAIT_SECONDS) as to_survivor,
    ):
        channel = (await make_channel(to_survivor))["code"]
        warehouse = (await make_warehouse(to_survivor))["code"]
        sku = (await make_sku(to_survivor))["sku"]
        await receive(to_survivor, sku, warehouse, 10)
        body = order_body(channel, "CRASH-1", [(sku, 2)])
        key = {"Idempotency-Key": "crash-1"}

        locker = await connect(servers)
        lock = locker.transaction()
        await lock.start()
        await locker.execute(
            "SELECT stock_levels.id FROM stock_levels JOIN skus ON skus.id = stock_levels.sku_id "
            "WHERE skus.sku = $1 FOR UPDATE OF stock_levels",
            sku,
        )
        doomed_request = asyncio.create_task(to_doomed.post("/v1/orders", json=body, headers=key))
        orphan = await until(admin, LOCK_WAITER)  # the placement has claimed the key and waits for the stock
        while_running = await to_survivor.post("/v1/orders", json=body, headers=key)

        doomed.process.kill()
        await asyncio.to_thread(doomed.process.wait, WAIT_SECONDS)
        with pytest.raises(httpx.TransportError):
            await doomed_request
        await lock.rollback()  # the dead process's backend ends its statement, finds its client gone, rolls back
        await locker.close()
        await until(
            admin,
            f"SELECT CASE WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = {orphan}) THEN {orphan} END",
        )
        retried = await to_survivor.post("/v1/orders", json=body, headers=key)
        replayed = await to_survivor.post("/v1/orders", json=body, headers=key)

    assert (while_running.status_code, while_running.json()["code"]) == (409, "idempotency_in_progress")
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert (replayed.headers["idempotent-replayed"], replayed.json()["id"]) == ("true", retried.json()["id"])
    orders = await query(servers.database_url, select(Order.id).where(Order.external_ref == "CRASH-1"))
    assert [str(row.id) for row in orders] == [retried.json()["id"]]
    assert list((await levels_of(servers.database_url, sku)).values()) == [(10, 2)]
    await assert_ledger_replays(servers.database_url)
