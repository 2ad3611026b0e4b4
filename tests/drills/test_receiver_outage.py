"""Drill: a receiver is down for longer than the whole retry schedule, then comes back.

One API process and two workers on PostgreSQL; the retry schedule is cut to a second so the
deliveries die and the endpoint is disabled while the receiver is down. Then the documented procedure
(README, "Webhooks": enable the endpoint, then redeliver its failed deliveries) runs, and every event of
every order arrives, once each (by webhook id) and in the order it happened.

The circuit breaker is set out of reach here: with it, a receiver that refuses connections keeps its
deliveries pending instead of spending their retries, and nothing would die. That path is covered by
``tests/api/test_webhooks_robustness.py``; this drill is about dead letters and their redelivery.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from oms_api.kit.auth import Scope
from tests.conftest import KeyMaker
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.servers import ApiServers, order_body
from tests.support.webhook_receiver import Receiver
from tests.support.workers import Workers

pytestmark = pytest.mark.slow

ORDER_FLOW = ["order.created", "order.confirmed", "order.on_hold", "order.hold_released", "order.cancelled"]
ORDERS = 12
OUTAGE_ENV = {
    "OMS_WEBHOOKS_RETRY_SCHEDULE": "0.2s,0.3s",
    "OMS_WEBHOOKS_DISABLE_AFTER_FAILURES": "3",
    "OMS_WEBHOOKS_CIRCUIT_THRESHOLD": "100000",
}


async def eventually(check: Callable[[], Awaitable[bool]], within: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}\n" + "\n".join(w.log()[-2000:] for w in workers.started)
            )
        await asyncio.sleep(0.2)


async def test_after_an_outage_longer_than_the_retries_the_procedure_delivers_everything_in_order(
    database: str, tmp_path: Path
) -> None:
    servers = ApiServers(database, tmp_path / "api", count=1, extra_env={"OMS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"})
    workers = Workers(database, tmp_path / "workers", extra_env=OUTAGE_ENV)
    receiver = Receiver()  # not started: every connection is refused
    try:
        await asyncio.to_thread(servers.start)
        token = await KeyMaker(database)(Scope.ADMIN.value, name="drill")
        async with httpx.AsyncClient(
            base_url=servers.urls[0], headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as api:
            created = await api.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["order.*"]})
            assert created.status_code == 201, created.text
            receiver.secrets.append(created.json()["secret"])
            endpoint = f"/v1/webhook-endpoints/{created.json()['id']}"
            workers.start()
            workers.start()

            channel, warehouse, sku = await make_channel(api), await make_warehouse(api), await make_sku(api)
            await receive(api, sku["sku"], warehouse["code"], ORDERS)
            orders = []
            for n in range(ORDERS):
                placed = await api.post("/v1/orders", json=order_body(channel["code"], f"out-{n}", [(sku["sku"], 1)]))
                assert placed.status_code == 201, placed.text
                orders.append(placed.json()["id"])
            for order_id in orders:
                for step, body in (("hold", {"reason": "check"}), ("release-hold", {}), ("cancel", {"reason": "x"})):
                    assert (await api.post(f"/v1/orders/{order_id}/{step}", json=body)).status_code == 200

            async def disabled_with_backlog() -> bool:
                state = (await api.get(endpoint)).json()
                return state["active"] is False and state["failed_deliveries"] > 0

            await eventually(disabled_with_backlog, 60, "the endpoint to be disabled by dead letters", workers)
            state = (await api.get(endpoint)).json()
            assert state["pending_deliveries"] + state["failed_deliveries"] > 0
            assert receiver.received == []

            # The documented procedure, once the receiver is back.
            receiver.start()
            assert (await api.post(f"{endpoint}/enable")).status_code == 200
            queued = await api.post(f"{endpoint}/redeliver-failed")
            assert queued.status_code == 202, queued.text

            async def everything_arrived() -> bool:
                arrived = receiver.types_by_resource()
                return all(len(arrived.get(o, [])) >= len(ORDER_FLOW) for o in orders)

            await eventually(everything_arrived, 90, "every event after the procedure", workers)
            await asyncio.sleep(1)  # nothing more arrives
            arrived = receiver.types_by_resource()
            assert {o: arrived[o] for o in orders} == dict.fromkeys(orders, ORDER_FLOW)
            final = (await api.get(endpoint)).json()
            assert (final["pending_deliveries"], final["failed_deliveries"]) == (0, 0)
        assert not workers.tracebacks(), workers.tracebacks()[0]
    finally:
        receiver.stop()
        await asyncio.to_thread(workers.stop)
        await asyncio.to_thread(servers.stop)
