"""Webhook delivery that one receiver cannot derail (issue 9, section 5), with an in-process worker.

- a receiver that never answers holds no more than its endpoint's budget, and a healthy one beside it is
  served as if it were alone; a receiver that stops answering trips its circuit, and one probe closes it;
- a dead letter holds back the later events of its resource until it is redelivered or skipped;
- a disabled endpoint shows what it leaves pending, and auto-disabling says so in an event;
- the failure run counts deliveries that failed after every retry, a batch of them up to the threshold;
- an attempt is recorded before it is sent, so a crashed worker's attempt stays visible; a heartbeat keeps
  a long request's claim.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from oms_api.settings import Settings
from oms_api.webhooks import delivery as webhook_delivery
from oms_api.webhooks.tasks import purge_deliveries
from oms_api.worker.runner import Worker
from tests.support.factories import make_sku
from tests.support.webhook_api import (
    deliveries,
    end_cooldown,
    endpoint_state,
    expire_leases,
    make_endpoint,
    settle,
    webhook_settings,
)
from tests.support.webhook_receiver import Answer, Delivery, HungReceiver, Receiver

MakeWorker = Callable[..., Worker]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return webhook_settings(database_url)


@pytest.fixture
async def make_worker(app: Any, database_url: str) -> AsyncIterator[MakeWorker]:
    """Workers on the test's database, each with its own settings (``webhook_settings`` plus overrides)."""
    made: list[Worker] = []

    def make(name: str = "test-worker", **overrides: Any) -> Worker:
        worker = Worker(webhook_settings(database_url, **overrides), app.state.db.sessions, name=name, jobs=[])
        made.append(worker)
        return worker

    yield make
    for worker in made:
        await worker.client.aclose()


@pytest.fixture
def worker(make_worker: MakeWorker) -> Worker:
    return make_worker()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


async def rename(api: httpx.AsyncClient, sku: dict[str, Any], name: str) -> None:
    response = await api.patch(f"/v1/skus/{sku['id']}", json={"name": name})
    assert response.status_code == 200, response.text


def refuse(event_type: str, refusing: dict[str, bool]) -> Callable[[Delivery], Answer]:
    """500 to ``event_type`` while ``refusing["on"]``, 200 to everything else."""
    return lambda d: (500, {}, 0.0) if refusing["on"] and d.type == event_type else (200, {}, 0.0)


# --- one slow endpoint delays only itself -----------------------------------------------------------------------


async def test_a_hung_receiver_holds_only_its_budget_and_a_healthy_one_beside_it_is_served(
    api: httpx.AsyncClient, make_worker: MakeWorker
) -> None:
    hung, healthy = HungReceiver().start(), Receiver().start()
    try:
        stuck = await make_endpoint(api, hung.url, event_types=["sku.created"])
        fine = await make_endpoint(api, healthy, event_types=["sku.created"])
        for _ in range(12):
            await make_sku(api)
        worker = make_worker(
            webhooks_concurrency=6,
            webhooks_endpoint_concurrency=2,
            webhooks_timeout_seconds=60,  # no attempt to the hung receiver ends during the test
            webhooks_circuit_threshold=100,
            worker_poll_interval_seconds=0.05,
        )
        running = asyncio.create_task(worker.run())
        try:
            deadline = time.monotonic() + 30  # far less than one attempt's time limit
            while len(healthy.accepted()) < 12:
                assert not running.done(), running
                assert time.monotonic() < deadline, (
                    f"the healthy endpoint got {len(healthy.accepted())}/12 events while the hung one held "
                    f"{hung.connections} connections"
                )
                await asyncio.sleep(0.05)
            sent_to_hung = [d for d in await deliveries(api, stuck["id"]) if d["attempt_count"]]
        finally:
            worker.request_stop()
            worker.request_stop()  # and do not wait for the hung requests
            await running
        assert hung.connections == 2  # its budget, and no more, while the other 10 waited
        assert [a["outcome"] for d in sent_to_hung for a in d["attempts"]] == ["in_flight", "in_flight"]
        assert {d["status"] for d in await deliveries(api, fine["id"])} == {"succeeded"}
        assert len(await deliveries(api, stuck["id"], status="pending")) == 12  # given back at shutdown
    finally:
        hung.stop()
        healthy.stop()


async def test_an_endpoint_that_stops_answering_trips_its_circuit_and_one_probe_closes_it(
    api: httpx.AsyncClient, app: Any, make_worker: MakeWorker
) -> None:
    down = Receiver()  # not listening: every connection is refused
    endpoint = await make_endpoint(api, down, event_types=["sku.created"])
    for _ in range(4):
        await make_sku(api)
    worker = make_worker(
        webhooks_circuit_threshold=2,
        webhooks_circuit_cooldown_seconds=3600,
        webhooks_retry_schedule="0.01s,0.01s,0.01s,0.01s",
        webhooks_disable_after_failures=100,
    )
    await worker.fanout_step()
    assert await worker.deliver_batch() == 4
    state = await endpoint_state(api, endpoint["id"])
    assert (state["circuit"], state["active"]) == ("open", True)
    assert state["circuit_retry_at"] is not None
    await asyncio.sleep(0.05)  # the retries are due, but the circuit is open
    assert await worker.deliver_batch() == 0
    assert [d["attempt_count"] for d in await deliveries(api, endpoint["id"])] == [1, 1, 1, 1]  # none spent
    await end_cooldown(app.state.db.sessions, endpoint["id"])
    assert (await endpoint_state(api, endpoint["id"]))["circuit"] == "half_open"
    down.start()
    try:
        assert await worker.deliver_batch() == 1  # one probe, not the endpoint's whole budget
        assert (await endpoint_state(api, endpoint["id"]))["circuit"] == "closed"
        await settle(worker, lambda: len(down.accepted()) >= 4)
    finally:
        down.stop()
    assert {d["status"] for d in await deliveries(api, endpoint["id"])} == {"succeeded"}


# --- order across dead letters ----------------------------------------------------------------------------------


async def test_later_events_of_a_resource_wait_behind_its_dead_letter_until_it_is_redelivered(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    refusing = {"on": True}
    receiver.respond = refuse("sku.created", refusing)
    endpoint = await make_endpoint(api, receiver, event_types=["sku.*"])
    sku = await make_sku(api)
    await rename(api, sku, "Renamed 0")
    await rename(api, sku, "Renamed 1")
    await settle(worker, lambda: len(receiver.received) >= 4)  # the first attempt and three retries
    await worker.drain()
    [dead] = await deliveries(api, endpoint["id"], status="failed")
    assert dead["resolution"] is None
    assert [d.type for d in receiver.received] == ["sku.created"] * 4  # sku.updated was never sent without it
    waiting = await deliveries(api, endpoint["id"], status="pending")
    assert [(d["event_type"], d["attempt_count"]) for d in waiting] == [("sku.updated", 0)] * 2
    state = await endpoint_state(api, endpoint["id"])
    assert (state["pending_deliveries"], state["failed_deliveries"]) == (2, 1)
    # making a waiting delivery due does not let it pass either
    again = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{waiting[0]['id']}/redeliver")
    assert again.status_code == 202, again.text
    await worker.drain()
    assert len(receiver.received) == 4

    refusing["on"] = False
    redelivered = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{dead['id']}/redeliver")
    assert redelivered.status_code == 202, redelivered.text
    await settle(worker, lambda: len(receiver.accepted()) >= 3)
    assert [d.type for d in receiver.accepted()] == ["sku.created", "sku.updated", "sku.updated"]
    assert [d.data["name"] for d in receiver.accepted()[1:]] == ["Renamed 0", "Renamed 1"]
    [resolved] = await deliveries(api, endpoint["id"], status="failed")
    assert resolved["resolution"] == "redelivered"
    assert resolved["resolved_at"] is not None
    state = await endpoint_state(api, endpoint["id"])
    assert (state["pending_deliveries"], state["failed_deliveries"]) == (0, 0)


async def test_a_skipped_dead_letter_lets_the_later_events_of_its_resource_go(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    receiver.respond = refuse("sku.created", {"on": True})
    endpoint = await make_endpoint(api, receiver, event_types=["sku.*"])
    path = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"
    sku = await make_sku(api)
    await rename(api, sku, "Renamed")
    await settle(worker, lambda: len(receiver.received) >= 4)
    await worker.drain()
    assert receiver.accepted() == []
    [dead] = await deliveries(api, endpoint["id"], status="failed")
    skipped = await api.post(f"{path}/{dead['id']}/skip")
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["resolution"] == "skipped"
    await settle(worker, lambda: len(receiver.accepted()) >= 1)
    assert [d.type for d in receiver.accepted()] == ["sku.updated"]
    assert (await api.post(f"{path}/{dead['id']}/skip")).json()["resolution"] == "skipped"  # once is enough
    [done] = await deliveries(api, endpoint["id"], status="succeeded")
    refused = await api.post(f"{path}/{done['id']}/skip")
    assert refused.status_code == 409
    assert refused.json()["code"] == "delivery_not_dead_letter"
    missing = await api.post(f"{path}/{endpoint['id']}/skip")
    assert missing.json()["code"] == "delivery_not_found"


async def test_after_an_outage_the_documented_procedure_delivers_every_resource_in_order(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    refusing = {"on": True}
    receiver.respond = lambda d: (503, {}, 0.0) if refusing["on"] else (200, {}, 0.0)
    endpoint = await make_endpoint(api, receiver, event_types=["sku.*"])
    base = f"/v1/webhook-endpoints/{endpoint['id']}"
    skus = [await make_sku(api) for _ in range(3)]
    for sku in skus:
        await rename(api, sku, "first")
        await rename(api, sku, "second")

    async def disabled() -> bool:
        return (await endpoint_state(api, endpoint["id"]))["active"] is False

    deadline = time.monotonic() + 10
    while not await disabled():  # two dead letters in a row (webhooks_disable_after_failures)
        assert time.monotonic() < deadline
        await worker.drain()
        await asyncio.sleep(0.02)
    state = await endpoint_state(api, endpoint["id"])
    # The endpoint is disabled at the second dead letter in a row; the third SKU's creation may have died too, or
    # still wait (a disabled endpoint is sent nothing), depending on how the worker's claims interleaved.
    failed = state["failed_deliveries"]
    assert failed in (2, 3)
    assert failed + state["pending_deliveries"] == 9  # every update waits behind its SKU's creation
    assert (await api.post(f"{base}/redeliver-failed")).json()["code"] == "webhook_endpoint_disabled"

    refusing["on"] = False
    assert (await api.post(f"{base}/enable")).status_code == 200
    queued = await api.post(f"{base}/redeliver-failed")
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"queued": failed}
    assert (await api.post(f"{base}/redeliver-failed")).json() == {"queued": 0}
    await settle(worker, lambda: len(receiver.accepted()) >= 9)
    by_sku: dict[str, list[str]] = {}
    for delivery in receiver.accepted():
        by_sku.setdefault(delivery.data["id"], []).append(f"{delivery.type}:{delivery.data['name']}")
    for sku in skus:
        assert by_sku[sku["id"]] == [f"sku.created:{sku['name']}", "sku.updated:first", "sku.updated:second"]


async def test_the_retention_purge_keeps_dead_letters_that_hold_their_resource(
    api: httpx.AsyncClient, app: Any, worker: Worker, receiver: Receiver
) -> None:
    receiver.respond = refuse("sku.created", {"on": True})
    endpoint = await make_endpoint(api, receiver, event_types=["sku.*"])
    await make_sku(api)
    sku = await make_sku(api)
    await rename(api, sku, "Renamed")
    await settle(worker, lambda: len(receiver.received) >= 8)  # both creations die
    await worker.drain()
    [first, _] = await deliveries(api, endpoint["id"], status="failed")
    assert (await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{first['id']}/skip")).status_code == 200
    async with app.state.db.sessions() as session:
        assert await purge_deliveries(session, 0) == 1  # the skipped one: the other still holds its SKU's update
        await session.commit()
    [kept] = await deliveries(api, endpoint["id"], status="failed")
    assert kept["resolution"] is None
    assert len(await deliveries(api, endpoint["id"], status="pending")) == 1


# --- a disabled endpoint is visible -----------------------------------------------------------------------------


async def test_an_endpoint_disabled_by_hand_shows_what_it_leaves_pending(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    for _ in range(3):
        await make_sku(api)
    await worker.fanout_step()
    disabled = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/disable", json={"reason": "maintenance"})
    assert disabled.json()["pending_deliveries"] == 3
    await worker.drain()
    assert receiver.received == []
    [listed] = (await api.get("/v1/webhook-endpoints", params={"active": "false"})).json()["data"]
    assert (listed["id"], listed["pending_deliveries"], listed["failed_deliveries"]) == (endpoint["id"], 3, 0)
    await worker.metrics_step()
    assert 'oms_worker_backlog{queue="disabled"} 3.0' in (await api.get("/metrics")).text
    assert (await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/enable")).json()["pending_deliveries"] == 3
    await settle(worker, lambda: len(receiver.accepted()) >= 3)
    assert (await endpoint_state(api, endpoint["id"]))["pending_deliveries"] == 0


async def test_an_endpoint_disabled_for_failures_raises_an_event_saying_what_it_leaves_pending(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    watcher = Receiver().start()
    try:
        receiver.respond = refuse("sku.created", {"on": True})
        endpoint = await make_endpoint(api, receiver, event_types=["sku.*"])
        await make_endpoint(api, watcher, event_types=["webhook_endpoint.disabled"])
        for n in range(2):
            sku = await make_sku(api)
            await rename(api, sku, f"Renamed {n}")
        await settle(worker, lambda: len(watcher.accepted()) >= 1)
        await worker.drain()
    finally:
        watcher.stop()
    [alert] = watcher.accepted()
    assert alert.type == "webhook_endpoint.disabled"
    assert alert.data["id"] == endpoint["id"]
    assert (alert.data["pending_deliveries"], alert.data["failed_deliveries"]) == (2, 2)
    assert alert.data["consecutive_failures"] == 2
    state = await endpoint_state(api, endpoint["id"])
    assert (state["active"], state["pending_deliveries"], state["failed_deliveries"]) == (False, 2, 2)


# --- the failure run --------------------------------------------------------------------------------------------


async def test_a_batch_of_deliveries_dying_together_counts_up_to_the_threshold_and_disables_once(
    api: httpx.AsyncClient, make_worker: MakeWorker, receiver: Receiver
) -> None:
    watcher = Receiver().start()
    try:
        receiver.respond = refuse("sku.created", {"on": True})
        endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
        await make_endpoint(api, watcher, event_types=["webhook_endpoint.disabled"])
        for _ in range(6):
            await make_sku(api)
        worker = make_worker(
            webhooks_retry_schedule="0.01s",
            webhooks_disable_after_failures=3,
            webhooks_endpoint_concurrency=8,
            webhooks_concurrency=8,
        )
        await worker.fanout_step()
        assert await worker.deliver_batch() == 6  # six first attempts fail, each has one retry left
        await asyncio.sleep(0.05)
        assert await worker.deliver_batch() == 6  # six deliveries die in one batch
        await settle(worker, lambda: len(watcher.accepted()) >= 1)
        await worker.drain()
    finally:
        watcher.stop()
    state = await endpoint_state(api, endpoint["id"])
    assert state["active"] is False
    assert state["consecutive_failures"] == 3  # "3 in a row" reads 3, not 6
    assert state["disabled_reason"] == "3 deliveries in a row failed after every retry"
    assert state["failed_deliveries"] == 6
    assert [d.type for d in watcher.accepted()] == ["webhook_endpoint.disabled"]
    assert watcher.accepted()[0].data["consecutive_failures"] == 3


# --- attempts that a crash interrupts, leases kept by a heartbeat -----------------------------------------------


async def test_a_crashed_workers_attempt_is_recorded_and_the_takeover_is_attempt_two(
    api: httpx.AsyncClient, app: Any, make_worker: MakeWorker, receiver: Receiver
) -> None:
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    crashed, survivor = make_worker("crashed"), make_worker("survivor")
    await survivor.fanout_step()
    [claimed] = await crashed.claim_step(10)  # claimed (and perhaps sent), then the worker dies
    [in_flight] = await deliveries(api, endpoint["id"])
    assert in_flight["attempt_count"] == 1
    assert [(a["attempt_no"], a["outcome"], a["duration_ms"]) for a in in_flight["attempts"]] == [
        (1, "in_flight", None)
    ]
    assert await survivor.deliver_batch() == 0  # still leased
    await expire_leases(app.state.db.sessions, claimed.delivery_id)
    assert await survivor.deliver_batch() == 1
    [delivery] = await deliveries(api, endpoint["id"])
    assert (delivery["status"], delivery["attempt_count"]) == ("succeeded", 2)
    assert [(a["attempt_no"], a["outcome"]) for a in delivery["attempts"]] == [(1, "abandoned"), (2, "succeeded")]
    assert "lease ran out" in delivery["attempts"][0]["error"]

    # the first worker was only slow: its answer completes its own attempt, not the delivery it lost
    await crashed.record([await webhook_delivery.send(crashed.client, claimed, crashed.settings)])
    [after] = await deliveries(api, endpoint["id"])
    assert (after["status"], after["attempt_count"]) == ("succeeded", 2)
    assert [(a["attempt_no"], a["outcome"]) for a in after["attempts"]] == [(1, "succeeded"), (2, "succeeded")]


async def test_a_heartbeat_keeps_a_long_requests_claim_while_a_dead_workers_claim_runs_out(
    api: httpx.AsyncClient, make_worker: MakeWorker, receiver: Receiver
) -> None:
    arrived = threading.Event()

    def slow(_delivery: Delivery) -> Answer:
        arrived.set()
        return 200, {}, 4.0

    receiver.respond = slow
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    await make_sku(api)
    lease = {"webhooks_claim_lease_seconds": 1.2, "webhooks_timeout_seconds": 20}
    holder, crashed, rival = (make_worker(name, **lease) for name in ("holder", "crashed", "rival"))
    await holder.fanout_step()
    sending = asyncio.create_task(holder.deliver_batch(1))  # the first SKU's, renewed by its heartbeat
    while not arrived.is_set():
        assert not sending.done(), sending
        await asyncio.sleep(0.02)
    [abandoned] = await crashed.claim_step(1)  # the second SKU's, and no heartbeat: its worker is dead
    taken_over: list[Any] = []
    for _ in range(5):  # 2.5 s: twice the lease, and the first request is still in flight
        await asyncio.sleep(0.5)
        taken_over += await rival.claim_step(10)
    assert [w.delivery_id for w in taken_over] == [abandoned.delivery_id]  # that one only, once
    assert taken_over[0].attempt_no == 2
    assert await sending == 1
    first = next(d for d in await deliveries(api, endpoint["id"]) if d["id"] != str(abandoned.delivery_id))
    assert (first["status"], first["attempt_count"]) == ("succeeded", 1)
    assert len(receiver.received) == 1
