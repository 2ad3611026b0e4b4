"""Drill: an API process and a worker are SIGKILLed in the middle of a load of 150 clients.

Three API processes and two workers share one PostgreSQL database; clients place orders (some on a
SKU that sells out) and retry with the same Idempotency-Key on the next process whenever a request
dies with its process. Afterwards nothing is oversold, the ledger replays, every acknowledged order
is readable and is the only order of its key, retries after the kill went through at once, and every
acknowledged order's ``order.confirmed`` reached the receiver after its ``order.created``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from oms_api.kit.auth import Scope
from oms_api.orders.models import Order
from tests.conftest import KeyMaker
from tests.drills.load import Load
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.ledger import assert_ledger_replays
from tests.support.servers import ApiServers, levels_of, query
from tests.support.webhook_receiver import Receiver
from tests.support.workers import Workers

pytestmark = pytest.mark.slow

HOT_STOCK = 300
LOAD_SECONDS = 32
KILL_AT = 12


async def test_a_sigkilled_api_process_and_worker_lose_nothing_and_oversell_nothing(
    database: str, tmp_path: Path
) -> None:
    servers = ApiServers(database, tmp_path / "api", count=3, extra_env={"OMS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"})
    workers = Workers(database, tmp_path / "workers")
    receiver = Receiver().start()
    try:
        await asyncio.to_thread(servers.start)
        token = await KeyMaker(database)(Scope.ADMIN.value, name="drill")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=servers.urls[1], headers=headers, timeout=30) as seed:
            created = await seed.post(
                "/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["order.created", "order.confirmed"]}
            )
            assert created.status_code == 201, created.text
            receiver.secrets.append(created.json()["secret"])
            channel = (await make_channel(seed))["code"]
            warehouse = (await make_warehouse(seed))["code"]
            hot = (await make_sku(seed))["sku"]
            plenty = (await make_sku(seed))["sku"]
            await receive(seed, hot, warehouse, HOT_STOCK)
            await receive(seed, plenty, warehouse, 1_000_000)
        doomed_worker = workers.start()
        workers.start()
        load = Load(servers.urls, token, channel, [[(hot, 1)], [(plenty, 2)], [(hot, 1), (plenty, 1)]], clients=150)
        killed_at: list[float] = []

        async def kill() -> None:
            await asyncio.sleep(KILL_AT)
            killed_at.append(time.monotonic())
            servers.processes[0].process.kill()
            doomed_worker.kill()

        await load.run(for_seconds=LOAD_SECONDS, during=kill())

        # Clients saw only orders, sell-outs and, around the kill, dropped connections that a retry healed.
        unexpected = [
            a
            for a in load.answers
            if a.status not in (None, 201, 409) or (a.status == 409 and a.code != "out_of_stock" and not a.retryable)
        ]
        assert not unexpected, unexpected[:5]
        assert any(a.error for a in load.answers), "the kill dropped no request: the drill did not bite"
        slow_retries = {key: n for key, n in load.attempts().items() if n > 10}
        assert not slow_retries, f"retries after the kill did not go through at once: {list(slow_retries.items())[:5]}"

        # Nothing oversold; the ledger replays; every acknowledged order is the only one of its key.
        levels = await levels_of(database, hot)
        assert all(0 <= reserved <= on_hand for on_hand, reserved in levels.values()), levels
        sold_hot = sum(
            line["quantity"] for order in load.acknowledged.values() for line in order["lines"] if line["sku"] == hot
        )
        assert sold_hot <= HOT_STOCK
        await assert_ledger_replays(database)
        rows = await query(database, select(Order.id, Order.external_ref))
        ids_by_key: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            ids_by_key[row.external_ref].append(str(row.id))
        assert all(len(ids) == 1 for ids in ids_by_key.values())
        assert {key: [order["id"]] for key, order in load.acknowledged.items()} == {
            key: ids_by_key[key] for key in load.acknowledged
        }
        survivor = servers.urls[2]
        async with httpx.AsyncClient(base_url=survivor, headers=headers, timeout=30) as reader:
            for order in list(load.acknowledged.values())[::25]:
                assert (await reader.get(f"/v1/orders/{order['id']}")).status_code == 200

        # Every acknowledged order's confirmation arrives, after its creation.
        expected = {order["id"] for order in load.acknowledged.values()}
        deadline = time.monotonic() + 120
        while not expected <= {o for o, types in receiver.types_by_resource().items() if "order.confirmed" in types}:
            assert time.monotonic() < deadline, "order.confirmed missing for some acknowledged orders"
            await asyncio.sleep(0.5)
        flows = receiver.types_by_resource()
        assert all(flows[o].index("order.created") < flows[o].index("order.confirmed") for o in expected)
        assert not workers.tracebacks(), workers.tracebacks()[0]
        survivors_logs = [servers.log_of(api) for api in servers.processes[1:]]
        assert not [line for log in survivors_logs for line in log.splitlines() if "Traceback" in line]
    finally:
        receiver.stop()
        await asyncio.to_thread(workers.stop)
        await asyncio.to_thread(servers.stop)
