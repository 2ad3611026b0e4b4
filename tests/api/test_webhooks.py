"""Webhook endpoints, the event catalogue, and delivery by an in-process worker to a real local receiver.

The receiver listens on a loopback port (so the service must allow private networks here) and verifies
every signature with the ``standardwebhooks`` package. The worker runs its steps directly (``drain``),
so each test decides when events are fanned out and sent; retries use a schedule of milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from oms_api.kit.auth import Scope
from oms_api.settings import Settings
from oms_api.webhooks.models import WebhookDelivery
from oms_api.worker.runner import Worker
from tests.conftest import KeyMaker
from tests.support.factories import make_sku
from tests.support.webhook_api import deliveries, make_endpoint, settle, webhook_settings
from tests.support.webhook_receiver import Answer, Delivery, Receiver


@pytest.fixture
def settings(database_url: str) -> Settings:
    return webhook_settings(database_url)


@pytest.fixture
async def worker(app: Any, settings: Settings) -> AsyncIterator[Worker]:
    w = Worker(settings, app.state.db.sessions, name="test-worker", jobs=[])
    yield w
    await w.client.aclose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


# --- endpoints --------------------------------------------------------------------------------------------------


async def test_creating_an_endpoint_shows_its_secret_once(api: httpx.AsyncClient, receiver: Receiver) -> None:
    created = await make_endpoint(api, receiver, description="ERP", event_types=["order.*", "stock.changed"])
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) >= len("whsec_") + 32
    assert created["event_types"] == ["order.*", "stock.changed"]
    assert created["active"] is True
    fetched = await api.get(f"/v1/webhook-endpoints/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"1"'
    assert "secret" not in fetched.json()
    listed = (await api.get("/v1/webhook-endpoints")).json()["data"]
    assert [e["id"] for e in listed] == [created["id"]]
    assert all("secret" not in e for e in listed)


async def test_every_event_type_is_the_default_subscription(api: httpx.AsyncClient, receiver: Receiver) -> None:
    assert (await make_endpoint(api, receiver))["event_types"] == ["*"]


@pytest.mark.parametrize(
    ("event_types", "code"),
    [(["order.shipped_to_mars"], "unknown_event_type"), (["nothing.*"], "unknown_event_type")],
)
async def test_an_unknown_event_type_is_refused(
    api: httpx.AsyncClient, receiver: Receiver, event_types: list[str], code: str
) -> None:
    response = await api.post("/v1/webhook-endpoints", json={"url": receiver.url, "event_types": event_types})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == code


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/hook", "http://user:pw@example.com/hook", "not a url", "http:///nohost", "javascript:x"],
)
async def test_a_url_that_is_not_plain_http_is_refused(api: httpx.AsyncClient, url: str) -> None:
    response = await api.post("/v1/webhook-endpoints", json={"url": url})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/body/url"


async def test_an_unresolvable_host_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/webhook-endpoints", json={"url": "https://no-such-host.invalid/hook"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "url_unresolvable"


async def test_an_endpoint_can_be_changed_disabled_enabled_and_deleted(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    endpoint = await make_endpoint(api, receiver)
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    stale = await api.patch(path, json={"description": "x"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    changed = await api.patch(path, json={"description": "Partner", "event_types": ["sku.created"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == ["sku.created"]
    assert changed.json()["version"] == 2
    disabled = await api.post(f"{path}/disable", json={"reason": "maintenance"})
    assert disabled.json()["active"] is False
    assert disabled.json()["disabled_reason"] == "maintenance"
    enabled = await api.post(f"{path}/enable")
    assert enabled.json()["active"] is True
    assert enabled.json()["disabled_reason"] is None
    assert (await api.patch(path, json={"active": False})).json()["active"] is False
    assert (await api.patch(path, json={"url": None})).status_code == 422
    assert (await api.delete(path)).status_code == 204
    assert (await api.get(path)).json()["code"] == "webhook_endpoint_not_found"
    assert (await api.delete(path)).status_code == 404


async def test_webhook_routes_need_the_webhooks_scopes(api: httpx.AsyncClient, make_key: KeyMaker) -> None:
    reader = await make_key(Scope.WEBHOOKS_READ.value)
    headers = {"Authorization": f"Bearer {reader}"}
    assert (await api.get("/v1/webhook-endpoints", headers=headers)).status_code == 200
    assert (await api.get("/v1/event-types", headers=headers)).status_code == 200
    refused = await api.post("/v1/webhook-endpoints", json={"url": "https://example.com"}, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"


# --- the catalogue ----------------------------------------------------------------------------------------------


async def test_the_event_catalogue_lists_every_type_with_its_data_schema(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/event-types")
    assert response.status_code == 200
    types = {t["name"]: t for t in response.json()["data"]}
    for name in ("order.created", "order.confirmed", "order.cancelled", "order.on_hold", "stock.changed"):
        assert name in types
    assert "webhook_endpoint.disabled" in types
    order = types["order.created"]["data_schema"]
    assert {"id", "status", "lines", "totals", "previous_status"} <= set(order["properties"])
    one = await api.get("/v1/event-types/stock.changed")
    assert one.json()["data_schema"]["properties"]["available"]["type"] == "integer"
    assert (await api.get("/v1/event-types/nope")).json()["code"] == "event_type_not_found"


async def test_the_openapi_document_describes_every_event_as_a_webhook(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    catalogue = {t["name"] for t in (await api.get("/v1/event-types")).json()["data"]}
    assert set(spec["webhooks"]) == catalogue
    operation = spec["webhooks"]["order.created"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    envelope = spec["components"]["schemas"][ref]
    assert set(envelope["required"]) == {"id", "type", "created_at", "data"}
    assert envelope["properties"]["type"]["const"] == "order.created"
    assert {p["name"] for p in operation["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}


# --- delivery ---------------------------------------------------------------------------------------------------


async def test_events_are_delivered_signed_in_the_standard_webhooks_format(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    endpoint = await make_endpoint(api, receiver, event_types=["sku.*"])
    sku = await make_sku(api)
    await settle(worker, lambda: len(receiver.accepted()) >= 1)
    [got] = receiver.accepted()
    assert got.verified_with == [0]  # the standardwebhooks verifier accepts what we send
    assert got.type == "sku.created"
    assert set(got.body) == {"id", "type", "created_at", "data"}
    assert got.body["id"] == got.id == got.headers["webhook-id"]
    assert got.data["id"] == sku["id"]
    assert got.headers["webhook-signature"].startswith("v1,")
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    [delivery] = await deliveries(api, endpoint["id"])
    assert delivery["status"] == "succeeded"
    assert delivery["event_id"] == got.id
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] == 200
    assert attempt["outcome"] == "succeeded"
    assert attempt["duration_ms"] >= 0
    detail = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery['id']}")
    assert detail.json()["payload"] == got.body


async def test_only_subscribed_event_types_are_delivered(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    await make_endpoint(api, receiver, event_types=["customer.created"])
    await make_sku(api)
    await api.post("/v1/customers", json={"email": "ada@example.com", "first_name": "Ada"})
    await settle(worker, lambda: len(receiver.accepted()) >= 1)
    await worker.drain()
    assert [d.type for d in receiver.accepted()] == ["customer.created"]


async def test_a_failing_delivery_is_retried_then_kept_as_a_dead_letter(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    receiver.respond = lambda _d: (500, {}, 0.0)
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    await settle(worker, lambda: len(receiver.received) >= 4)
    await worker.drain()
    [dead] = await deliveries(api, endpoint["id"], status="failed")
    assert dead["attempt_count"] == 4  # the first attempt and the three retries of the schedule
    assert [a["status_code"] for a in dead["attempts"]] == [500, 500, 500, 500]
    assert dead["last_error"] == "HTTP 500"
    assert dead["finished_at"] is not None
    assert {d.id for d in receiver.received} == {dead["event_id"]}  # the same webhook-id every time
    assert await deliveries(api, endpoint["id"], status="pending") == []


async def test_an_endpoint_answering_410_is_disabled_and_that_is_an_event(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    gone = Receiver(respond=lambda _d: (410, {}, 0.0)).start()
    try:
        endpoint = await make_endpoint(api, gone, event_types=["sku.created"])
        watcher = await make_endpoint(api, receiver, event_types=["webhook_endpoint.disabled"])
        await make_sku(api)
        await settle(worker, lambda: len(receiver.accepted()) >= 1)
    finally:
        gone.stop()
    state = (await api.get(f"/v1/webhook-endpoints/{endpoint['id']}")).json()
    assert state["active"] is False
    assert "410" in state["disabled_reason"]
    [event] = receiver.accepted()
    assert event.type == "webhook_endpoint.disabled"
    assert event.data["id"] == endpoint["id"]
    assert "url" not in event.data
    assert "secret" not in event.data
    assert watcher["id"] != endpoint["id"]


async def test_an_endpoint_whose_deliveries_keep_failing_is_disabled(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    receiver.respond = lambda _d: (503, {}, 0.0)
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    await make_sku(api)  # two deliveries failing for good = webhooks_disable_after_failures
    path = f"/v1/webhook-endpoints/{endpoint['id']}"

    async def disabled() -> bool:
        return (await api.get(path)).json()["active"] is False

    deadline = time.monotonic() + 10
    while not await disabled():
        assert time.monotonic() < deadline
        await worker.drain()
        await asyncio.sleep(0.02)
    state = (await api.get(path)).json()
    assert "2 deliveries in a row failed" in state["disabled_reason"]
    assert len(await deliveries(api, endpoint["id"], status="failed")) == 2


async def test_retry_after_is_honoured_on_429(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver, app: Any
) -> None:
    receiver.respond = lambda _d: (429, {"Retry-After": "120"}, 0.0)
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    await settle(worker, lambda: len(receiver.received) >= 1)
    await worker.drain()
    [pending] = await deliveries(api, endpoint["id"], status="pending")
    wait = datetime.fromisoformat(pending["next_attempt_at"]) - datetime.now(UTC)
    assert timedelta(seconds=100) < wait <= timedelta(seconds=121)
    assert len(receiver.received) == 1


async def test_events_about_one_resource_wait_for_the_earlier_ones(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    refused_once: set[str] = set()

    def flaky(delivery: Delivery) -> Answer:
        if delivery.type == "sku.created" and delivery.id not in refused_once:
            refused_once.add(delivery.id)
            return 500, {}, 0.0
        return 200, {}, 0.0

    receiver.respond = flaky
    await make_endpoint(api, receiver, event_types=["sku.*"])
    sku = await make_sku(api)
    for n in range(3):
        assert (await api.patch(f"/v1/skus/{sku['id']}", json={"name": f"Renamed {n}"})).status_code == 200
    await settle(worker, lambda: len(receiver.accepted()) >= 4)
    types = [d.type for d in receiver.accepted()]
    assert types == ["sku.created", "sku.updated", "sku.updated", "sku.updated"]
    assert [d.data["name"] for d in receiver.accepted()[1:]] == ["Renamed 0", "Renamed 1", "Renamed 2"]
    # the updates were not even attempted while the creation was failing
    assert [d.type for d in receiver.received] == ["sku.created", *types]


async def test_a_rotated_secret_keeps_signing_with_the_old_one_during_the_overlap(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    rotated = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != endpoint["secret"]
    assert new_secret.startswith("whsec_")
    assert rotated.json()["previous_secret_expires_at"] is not None
    receiver.secrets.append(new_secret)
    await make_sku(api)
    await settle(worker, lambda: len(receiver.accepted()) >= 1)
    [both] = receiver.accepted()
    assert both.verified_with == [0, 1]  # the old and the new secret each verify
    assert len(both.headers["webhook-signature"].split(" ")) == 2

    at_once = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", json={"overlap_hours": 0})
    assert at_once.json()["previous_secret_expires_at"] is None
    receiver.secrets.append(at_once.json()["secret"])
    await make_sku(api)
    await settle(worker, lambda: len(receiver.accepted()) >= 2)
    assert receiver.accepted()[1].verified_with == [2]


async def test_a_dead_letter_can_be_redelivered(api: httpx.AsyncClient, worker: Worker, receiver: Receiver) -> None:
    receiver.respond = lambda _d: (500, {}, 0.0)
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    await settle(worker, lambda: len(receiver.received) >= 4)
    await worker.drain()
    [dead] = await deliveries(api, endpoint["id"], status="failed")
    receiver.respond = lambda _d: (200, {}, 0.0)
    again = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{dead['id']}/redeliver")
    assert again.status_code == 202, again.text
    assert again.json()["origin"] == "redelivery"
    assert again.json()["event_id"] == dead["event_id"]
    await settle(worker, lambda: len(receiver.accepted()) >= 1)
    assert receiver.accepted()[0].id == dead["event_id"]
    missing = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{endpoint['id']}/redeliver")
    assert missing.json()["code"] == "delivery_not_found"


async def test_a_time_range_can_be_replayed_after_an_outage(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    since = datetime.now(UTC) - timedelta(seconds=1)
    skus = [await make_sku(api) for _ in range(3)]
    await settle(worker, lambda: len(receiver.accepted()) >= 3)
    replay = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/replay", json={"since": since.isoformat()})
    assert replay.status_code == 202, replay.text
    assert replay.json()["queued"] == 3
    await settle(worker, lambda: len(receiver.accepted()) >= 6)
    ids = [d.data["id"] for d in receiver.accepted()]
    assert sorted(ids[:3]) == sorted(ids[3:]) == sorted(s["id"] for s in skus)  # each event once more
    origins = sorted(d["origin"] for d in await deliveries(api, endpoint["id"], status="succeeded"))
    assert origins == ["fanout"] * 3 + ["replay"] * 3
    bad = await api.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/replay",
        json={"since": since.isoformat(), "until": (since - timedelta(hours=1)).isoformat()},
    )
    assert bad.status_code == 422


async def test_a_disabled_endpoint_gets_nothing_and_refuses_redelivery(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver
) -> None:
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/disable")
    await make_sku(api)
    await worker.drain()
    assert receiver.received == []
    replay = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/replay", json={"since": "2020-01-01T00:00:00Z"})
    assert replay.status_code == 409
    assert replay.json()["code"] == "webhook_endpoint_disabled"


async def test_a_claim_left_by_a_dead_worker_is_taken_over_when_its_lease_expires(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver, app: Any, settings: Settings
) -> None:
    endpoint = await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    await worker.fanout_step()
    dead = Worker(settings, app.state.db.sessions, name="dead", jobs=[])
    try:
        [claimed] = await dead.claim_step(10)  # claimed, then the worker "dies" without sending
    finally:
        await dead.client.aclose()
    assert await worker.deliver_batch() == 0  # still leased
    async with app.state.db.sessions() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claimed.delivery_id)
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
    assert await worker.deliver_batch() == 1
    assert receiver.accepted_ids() == [claimed.event_id]
    [delivery] = await deliveries(api, endpoint["id"], status="succeeded")
    assert delivery["id"] == str(claimed.delivery_id)


async def test_worker_metrics_are_exposed(api: httpx.AsyncClient, worker: Worker, receiver: Receiver) -> None:
    await make_endpoint(api, receiver, event_types=["sku.created"])
    await make_sku(api)
    await settle(worker, lambda: len(receiver.accepted()) >= 1)
    await worker.metrics_step()
    text = (await api.get("/metrics")).text
    assert 'oms_webhook_attempts_total{outcome="succeeded"}' in text
    assert 'oms_worker_backlog{queue="deliveries"}' in text
    assert "oms_webhook_delivery_lag_seconds_bucket" in text


async def test_deliveries_of_another_endpoint_are_not_found(api: httpx.AsyncClient, receiver: Receiver) -> None:
    endpoint = await make_endpoint(api, receiver)
    response = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{endpoint['id']}")
    assert response.json()["code"] == "delivery_not_found"
    unknown = await api.get("/v1/webhook-endpoints/0190f5a0-0000-7000-8000-000000000000/deliveries")
    assert unknown.json()["code"] == "webhook_endpoint_not_found"


async def test_the_worker_does_not_deliver_before_the_event_commits(
    api: httpx.AsyncClient, worker: Worker, receiver: Receiver, app: Any
) -> None:
    await make_endpoint(api, receiver, event_types=["sku.created"])
    refused = await api.post("/v1/skus", json={"sku": "X", "name": "x", "barcode": "123"})
    assert refused.status_code == 422
    await worker.drain()
    async with app.state.db.sessions() as session:
        assert (await session.execute(select(WebhookDelivery.id))).all() == []
    assert receiver.received == []
