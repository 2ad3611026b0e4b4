"""Real ``oms-api worker`` processes delivering to a real receiver that verifies every signature.

- The receiver is down, then comes back: every event is delivered once it is back, in order per order.
- Two workers race on PostgreSQL: each event reaches a healthy receiver exactly once.
- A worker is SIGKILLed mid-delivery: its claims expire and another worker delivers everything.

Orders are placed through the API in-process (httpx over ASGI) on a fresh database; the workers are
separate processes on the same database, with retry waits and leases of seconds to keep runs short.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from oms_api.app import create_app
from oms_api.kit.auth import Scope
from oms_api.settings import Settings
from tests.conftest import KeyMaker
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.servers import order_body
from tests.support.webhook_receiver import Receiver
from tests.support.workers import WorkerProcess, Workers

pytestmark = pytest.mark.slow

ORDER_FLOW = ["order.created", "order.confirmed", "order.on_hold", "order.hold_released", "order.cancelled"]


@pytest.fixture
def spawn(database_url: str, tmp_path: Path) -> Iterator[Callable[[], WorkerProcess]]:
    """Start ``oms-api worker`` processes on the test's database; all are stopped at the end."""
    workers = Workers(database_url, tmp_path)
    yield workers.start
    workers.stop()


@pytest.fixture
async def shop(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process on the test's database, with an admin key."""
    app = create_app(Settings(database_url=database_url, log_level="warning", webhooks_allow_private_networks=True))
    token = await KeyMaker(database_url)(Scope.ADMIN.value)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://oms.test", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client
    await app.state.db.engine.dispose()


async def subscribe(shop: httpx.AsyncClient, receiver: Receiver, event_types: list[str]) -> None:
    created = await shop.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": event_types})
    assert created.status_code == 201, created.text
    receiver.secrets.append(created.json()["secret"])


async def place_and_walk_orders(shop: httpx.AsyncClient, count: int) -> list[str]:
    """``count`` orders, each created, confirmed, held, released and cancelled (five events per order)."""
    channel = await make_channel(shop)
    warehouse = await make_warehouse(shop)
    sku = await make_sku(shop)
    await receive(shop, sku["sku"], warehouse["code"], 10 * count)
    ids = []
    for n in range(count):
        placed = await shop.post("/v1/orders", json=order_body(channel["code"], f"wh-{n}", [(sku["sku"], 1)]))
        assert placed.status_code == 201, placed.text
        ids.append(placed.json()["id"])
    for order_id in ids:
        for step, body in (("hold", {"reason": "check"}), ("release-hold", {}), ("cancel", {"reason": "test"})):
            response = await shop.post(f"/v1/orders/{order_id}/{step}", json=body)
            assert response.status_code == 200, response.text
    return ids


async def wait_for(condition: Callable[[], bool], within: float, what: str, workers: list[WorkerProcess]) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(w.log()[-3000:] for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        await asyncio.sleep(0.1)


def flows(receiver: Receiver) -> dict[str, list[str]]:
    """The event types each order's accepted deliveries came in, in arrival order."""
    by_order: dict[str, list[str]] = defaultdict(list)
    for delivery in receiver.accepted():
        by_order[delivery.data["id"]].append(delivery.type)
    return by_order


def assert_no_tracebacks(workers: list[WorkerProcess]) -> None:
    for worker in workers:
        assert "Traceback" not in worker.log(), worker.log()[-3000:]


async def test_events_wait_for_a_receiver_that_is_down_and_arrive_in_order_when_it_is_back(
    shop: httpx.AsyncClient, spawn: Callable[[], WorkerProcess]
) -> None:
    receiver = Receiver()  # not started: connections are refused
    await subscribe(shop, receiver, ["order.*"])
    orders = await place_and_walk_orders(shop, 6)
    worker = spawn()
    await asyncio.sleep(3)  # the worker tries, fails, and schedules retries
    assert receiver.received == []
    receiver.start()
    try:
        await wait_for(lambda: len(receiver.accepted()) >= 5 * len(orders), 60, "every event", [worker])
        await asyncio.sleep(1)  # nothing more arrives
    finally:
        receiver.stop()
    assert sorted(flows(receiver)) == sorted(orders)
    for order_id, types in flows(receiver).items():
        assert types == ORDER_FLOW, order_id
    assert receiver.rejected == []
    assert all(d.verified_with == [0] for d in receiver.received)
    assert_no_tracebacks([worker])


@pytest.mark.postgres_only
async def test_two_workers_racing_deliver_each_event_exactly_once(
    db_kind: str, shop: httpx.AsyncClient, spawn: Callable[[], WorkerProcess]
) -> None:
    if db_kind != "postgresql":
        pytest.skip("several workers claiming at once is a PostgreSQL matter (SQLite runs one writer)")
    receiver = Receiver(respond=lambda _d: (200, {}, 0.01)).start()
    try:
        await subscribe(shop, receiver, ["order.*"])
        workers = [spawn(), spawn()]
        orders = await place_and_walk_orders(shop, 30)
        await wait_for(lambda: len(receiver.accepted()) >= 5 * len(orders), 90, "every event", workers)
        await asyncio.sleep(1.5)
    finally:
        receiver.stop()
    counts = Counter(receiver.accepted_ids())
    assert len(counts) == 5 * len(orders)
    assert set(counts.values()) == {1}, [i for i, c in counts.items() if c > 1][:5]
    for order_id, types in flows(receiver).items():
        assert types == ORDER_FLOW, order_id
    workers_seen = {d.headers.get("user-agent") for d in receiver.received}
    assert workers_seen == {"oms-api-webhooks/1"}
    assert_no_tracebacks(workers)


@pytest.mark.postgres_only
async def test_a_killed_worker_loses_nothing(
    db_kind: str, shop: httpx.AsyncClient, spawn: Callable[[], WorkerProcess]
) -> None:
    if db_kind != "postgresql":
        pytest.skip("run on PostgreSQL (the SQLite half is covered by the outage test)")
    receiver = Receiver(respond=lambda _d: (200, {}, 0.5)).start()  # slow: the kill lands mid-delivery
    try:
        await subscribe(shop, receiver, ["order.*"])
        orders = await place_and_walk_orders(shop, 8)
        first = spawn()
        await wait_for(lambda: len(receiver.received) >= 1, 30, "a first delivery", [first])
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        seen_before = set(receiver.accepted_ids())
        second = spawn()
        expected = 5 * len(orders)
        await wait_for(lambda: len(set(receiver.accepted_ids())) >= expected, 90, "every event", [first, second])
        await asyncio.sleep(1)
    finally:
        receiver.stop()
    assert len(set(receiver.accepted_ids())) == expected
    assert len(seen_before) < expected  # the kill really interrupted the work
    for order_id, types in flows(receiver).items():
        # at least once: a delivery in flight at the kill may come twice, never out of order
        deduped = [t for i, t in enumerate(types) if i == 0 or types[i - 1] != t]
        assert deduped == ORDER_FLOW, (order_id, types)
    # what the killed worker had in flight is recorded: an abandoned attempt, then the takeover's
    endpoint_id = (await shop.get("/v1/webhook-endpoints")).json()["data"][0]["id"]
    listed = await shop.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params={"limit": 200})
    cut_short = [d for d in listed.json()["data"] if any(a["outcome"] == "abandoned" for a in d["attempts"])]
    assert cut_short, "the kill interrupted no attempt"
    for delivery in cut_short:
        assert [a["outcome"] for a in delivery["attempts"]][-1] == "succeeded", delivery
        assert delivery["attempt_count"] == len(delivery["attempts"]) >= 2, delivery
    assert_no_tracebacks([second])


async def test_sigterm_lets_in_flight_deliveries_finish(
    shop: httpx.AsyncClient, spawn: Callable[[], WorkerProcess]
) -> None:
    receiver = Receiver(respond=lambda _d: (200, {}, 1.0)).start()
    try:
        await subscribe(shop, receiver, ["order.created"])
        await place_and_walk_orders(shop, 3)
        worker = spawn()
        await wait_for(lambda: len(receiver.received) >= 1, 30, "a delivery in flight", [worker])
        started = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
        accepted = set(receiver.accepted_ids())
        # what was in flight finished (and was recorded): a new worker sends only the rest, once each
        again = spawn()
        await wait_for(lambda: len(set(receiver.accepted_ids())) >= 3, 30, "the rest", [again])
        await asyncio.sleep(1)
    finally:
        receiver.stop()
    counts = Counter(receiver.accepted_ids())
    assert len(counts) == 3
    assert all(counts[i] == 1 for i in accepted), counts
    assert_no_tracebacks([worker, again])
