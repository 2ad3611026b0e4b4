"""On SQLite, writers from several processes queue for the file lock instead of failing.

Two uvicorn processes and one in-process app share a migrated database file; every transaction
starts with ``BEGIN IMMEDIATE`` and waits up to the busy timeout, so a burst of placements and
receipts from all three gets no 5xx and no "database is locked", and stock still adds up.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from oms_api.app import create_app
from oms_api.kit.auth import Scope
from oms_api.kit.migrations import upgrade
from oms_api.settings import Settings
from tests.conftest import KeyMaker
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.ledger import assert_ledger_replays
from tests.support.servers import (
    REQUEST_TIMEOUT,
    ApiServers,
    assert_clean,
    clients,
    fire,
    levels_of,
    order_body,
    post,
    reserved_of,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}"
    upgrade(url)
    return url


@pytest.fixture
def sqlite_servers(sqlite_url: str, tmp_path: Path) -> Iterator[ApiServers]:
    api = ApiServers(sqlite_url, tmp_path / "servers", count=2)
    try:
        api.start()
        yield api
    finally:
        api.stop()


@pytest.fixture
async def in_process(sqlite_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(Settings(database_url=sqlite_url, log_level="warning"))
    yield app
    await app.state.db.engine.dispose()


async def test_writers_in_three_processes_queue_for_the_sqlite_lock(
    sqlite_url: str, sqlite_servers: ApiServers, in_process: FastAPI
) -> None:
    token = await KeyMaker(sqlite_url)(Scope.ADMIN.value, name="sqlite-writers")
    local = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=in_process),
        base_url="http://oms.test",
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT,
    )
    api = [*clients(sqlite_servers.urls, token), local]
    try:
        seed = api[0]
        channel = (await make_channel(seed))["code"]
        warehouses = [(await make_warehouse(seed, priority=p))["code"] for p in (5, 1)]
        skus = [(await make_sku(seed))["sku"] for _ in range(3)]
        start = {(skus[0], warehouses[0]): 10, (skus[0], warehouses[1]): 5}
        start |= {(sku, wh): 50 for sku in skus[1:] for wh in warehouses}
        for (sku, wh), quantity in start.items():
            await receive(seed, sku, wh, quantity)

        rng = random.Random(5)
        received: dict[str, int] = defaultdict(int)
        calls = []
        for n in range(100):
            client = api[n % len(api)]
            if n % 4 == 3:
                sku, wh, quantity = rng.choice(skus), rng.choice(warehouses), rng.randint(1, 5)
                received[sku] += quantity
                body = {"type": "receipt", "sku": sku, "warehouse": wh, "quantity": quantity}
                calls.append((f"receipt-{n}", post(client, "/v1/stock-movements", body)))
            else:
                lines = [(skus[0], rng.randint(1, 3))] + ([(rng.choice(skus[1:]), 2)] if n % 2 else [])
                body = order_body(channel, f"SQ-{n}", lines)
                calls.append((f"order-{n}", post(client, "/v1/orders", body, {"Idempotency-Key": f"sq-{n}"})))

        outcomes = await fire(calls, within=60.0)
    finally:
        for client in api:
            await client.aclose()

    assert_clean(outcomes)
    assert not [o for o in outcomes if "database is locked" in str(o.body)]
    assert not sqlite_servers.problems_in_logs(), sqlite_servers.problems_in_logs()[:20]
    assert {o.status for o in outcomes if o.label.startswith("receipt")} == {201}
    orders = [o for o in outcomes if o.label.startswith("order")]
    assert {(o.status, o.code) for o in orders} <= {(201, None), (409, "out_of_stock")}
    placed = [o.body for o in orders if o.status == 201]
    assert placed
    for sku in skus:
        levels = (await levels_of(sqlite_url, sku)).values()
        initial = sum(q for (s, _), q in start.items() if s == sku)
        assert sum(on_hand for on_hand, _ in levels) == initial + received[sku]
        assert sum(reserved for _, reserved in levels) == sum(reserved_of(order, sku) for order in placed)
    await assert_ledger_replays(sqlite_url)
