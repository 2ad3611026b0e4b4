"""Tracking through HTTP, on SQLite and PostgreSQL: manual updates and EasyPost ``tracker.updated`` webhooks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from oms_api.integrations.easypost import signature
from oms_api.settings import Settings
from tests.support.factories import make_channel, make_sku, make_warehouse, place_order, receive, recorded_events

SECRET = "whsec-easypost-test"
WEBHOOK = "/v1/integrations/easypost/webhooks"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        log_level="warning",
        db_pool_size=5,
        db_max_overflow=5,
        easypost_webhook_secret=SECRET,
    )


@pytest.fixture
async def shipped(api: httpx.AsyncClient) -> dict[str, Any]:
    """An order of one mug whose shipment has left with tracking number EZ1000000001."""
    channel = await make_channel(api)
    warehouse = await make_warehouse(api)
    mug = await make_sku(api)
    await receive(api, mug["sku"], warehouse["code"], 5)
    order = await place_order(api, channel["code"], [(mug["sku"], 1)])
    shipment = (await api.post(f"/v1/orders/{order['id']}/shipments")).json()["data"][0]
    for action in ("start-picking", "pack"):
        assert (await api.post(f"/v1/shipments/{shipment['id']}/{action}")).status_code == 200
    body = {"carrier": "USPS", "tracking_numbers": ["EZ1000000001"]}
    response = await api.post(f"/v1/shipments/{shipment['id']}/ship", json=body)
    assert response.status_code == 200, response.text
    return {"order_id": order["id"], "shipment_id": shipment["id"]}


async def shipment_of(api: httpx.AsyncClient, shipped: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get(f"/v1/shipments/{shipped['shipment_id']}")).json()
    return body


def tracker_event(event_id: str, status: str, **tracker: Any) -> dict[str, Any]:
    """An EasyPost Event wrapping a Tracker, as its webhooks send them."""
    detail = {
        "object": "TrackingDetail",
        "message": tracker.pop("message", f"Carrier says {status}"),
        "status": status,
        "datetime": "2026-11-24T08:15:00Z",
        "source": "USPS",
        "tracking_location": {
            "object": "TrackingLocation",
            "city": "Berlin",
            "state": None,
            "country": "DE",
            "zip": "10115",
        },
    }
    return {
        "id": event_id,
        "object": "Event",
        "mode": "test",
        "description": "tracker.updated",
        "previous_attributes": {"status": "pre_transit"},
        "created_at": "2026-11-24T08:16:00Z",
        "result": {
            "id": "trk_c8e0edb5bb284caa934a0d3db23a148z",
            "object": "Tracker",
            "mode": "test",
            "tracking_code": tracker.pop("tracking_code", "EZ1000000001"),
            "status": status,
            "status_detail": "arrived_at_facility",
            "carrier": "USPS",
            "est_delivery_date": tracker.pop("est_delivery_date", None),
            "tracking_details": [detail],
            **tracker,
        },
        "status": "pending",
        "pending_urls": ["https://oms.example/v1/integrations/easypost/webhooks"],
        "completed_urls": [],
    }


async def deliver(api: httpx.AsyncClient, payload: dict[str, Any], secret: str = SECRET) -> httpx.Response:
    raw = json.dumps(payload).encode()
    headers = {"X-Hmac-Signature": signature(secret, raw), "Content-Type": "application/json"}
    return await api.post(WEBHOOK, content=raw, headers=headers)


# --- manual updates ------------------------------------------------------------------------------------------


async def test_manual_updates_move_the_shipment_and_roll_the_order_up(
    api: httpx.AsyncClient, shipped: dict[str, Any], database_url: str
) -> None:
    url = f"/v1/shipments/{shipped['shipment_id']}/tracking-events"
    moving = await api.post(url, json={"status": "in_transit", "location": "Leipzig hub"})
    assert moving.status_code == 201, moving.text
    assert moving.json()["event"]["applied"] is True
    assert moving.json()["shipment"]["status"] == "in_transit"
    eta = await api.post(
        url, json={"status": "info", "estimated_delivery_date": "2026-11-26", "description": "delayed"}
    )
    assert eta.json()["event"]["applied"] is False
    assert eta.json()["shipment"]["estimated_delivery_date"] == "2026-11-26"
    done = await api.post(url, json={"status": "delivered", "tracking_number": "EZ1000000001"})
    assert done.json()["shipment"]["status"] == "delivered"
    assert (await api.get(f"/v1/orders/{shipped['order_id']}")).json()["status"] == "delivered"
    journey = (await api.get(url)).json()["data"]
    assert [(e["carrier_status"], e["applied"], e["source"]) for e in journey] == [
        ("in_transit", True, "manual"),
        ("info", False, "manual"),
        ("delivered", True, "manual"),
    ]
    types = [e["type"] for e in await recorded_events(database_url, shipped["shipment_id"])]
    assert types[-3:] == ["shipment.in_transit", "shipment.updated", "shipment.delivered"]


async def test_manual_updates_keep_to_the_lifecycle(api: httpx.AsyncClient, shipped: dict[str, Any]) -> None:
    url = f"/v1/shipments/{shipped['shipment_id']}/tracking-events"
    await api.post(url, json={"status": "delivered"})
    backwards = await api.post(url, json={"status": "in_transit"})
    assert (backwards.status_code, backwards.json()["code"]) == (409, "illegal_transition")
    wrong_package = await api.post(url, json={"status": "info", "tracking_number": "NOT-OURS-1"})
    assert wrong_package.status_code == 422
    assert wrong_package.json()["errors"][0]["pointer"] == "/body/tracking_number"
    assert (await api.post(url, json={"status": "teleported"})).status_code == 422


async def test_an_exception_carries_its_reason(
    api: httpx.AsyncClient, shipped: dict[str, Any], database_url: str
) -> None:
    response = await api.post(f"/v1/shipments/{shipped['shipment_id']}/exception", json={"reason": "parcel damaged"})
    assert (response.json()["status"], response.json()["status_reason"]) == ("exception", "parcel damaged")
    events = await recorded_events(database_url, shipped["shipment_id"])
    assert events[-1]["type"] == "shipment.exception"
    assert events[-1]["data"]["status_reason"] == "parcel damaged"
    back = await api.post(f"/v1/shipments/{shipped['shipment_id']}/return-to-sender", json={})
    assert back.json()["status"] == "returned_to_sender"
    assert (await api.get(f"/v1/orders/{shipped['order_id']}")).json()["status"] == "shipped"


async def test_tracking_a_shipment_that_has_not_left_is_refused(api: httpx.AsyncClient) -> None:
    channel = await make_channel(api)
    warehouse = await make_warehouse(api)
    mug = await make_sku(api)
    await receive(api, mug["sku"], warehouse["code"], 1)
    order = await place_order(api, channel["code"], [(mug["sku"], 1)])
    shipment = (await api.post(f"/v1/orders/{order['id']}/shipments")).json()["data"][0]
    refused = await api.post(f"/v1/shipments/{shipment['id']}/tracking-events", json={"status": "in_transit"})
    assert (refused.status_code, refused.json()["code"]) == (409, "shipment_not_dispatched")
    delivered = await api.post(f"/v1/shipments/{shipment['id']}/deliver", json={})
    assert (delivered.status_code, delivered.json()["code"]) == (409, "illegal_transition")


# --- EasyPost webhooks ---------------------------------------------------------------------------------------


async def test_a_signed_tracker_update_moves_the_shipment_and_sets_the_eta(
    api: httpx.AsyncClient, shipped: dict[str, Any]
) -> None:
    payload = tracker_event("evt_1", "in_transit", est_delivery_date="2026-11-26T18:00:00Z")
    response = await deliver(api, payload)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied"
    assert response.json()["duplicate"] is False
    shipment = await shipment_of(api, shipped)
    assert (shipment["status"], shipment["estimated_delivery_date"]) == ("in_transit", "2026-11-26")
    journey = (await api.get(f"/v1/shipments/{shipped['shipment_id']}/tracking-events")).json()["data"]
    assert journey[-1]["source"] == "easypost"
    assert journey[-1]["location"] == "Berlin, 10115, DE"
    assert journey[-1]["occurred_at"].startswith("2026-11-24T08:15:00")


async def test_a_redelivered_event_is_stored_once_and_applied_once(
    api: httpx.AsyncClient, shipped: dict[str, Any]
) -> None:
    payload = tracker_event("evt_dup", "out_for_delivery")
    first = await deliver(api, payload)
    again = await deliver(api, payload)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert again.json()["outcome"] == "duplicate"
    journey = (await api.get(f"/v1/shipments/{shipped['shipment_id']}/tracking-events")).json()["data"]
    assert [e["carrier_status"] for e in journey] == ["out_for_delivery"]


async def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(
    api: httpx.AsyncClient, shipped: dict[str, Any]
) -> None:
    payload = tracker_event("evt_forged", "delivered")
    forged = await deliver(api, payload, secret="not-the-secret")
    assert (forged.status_code, forged.json()["code"]) == (401, "invalid_signature")
    raw = json.dumps(payload).encode()
    unsigned = await api.post(WEBHOOK, content=raw, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    tampered = await api.post(WEBHOOK, content=raw + b" ", headers={"X-Hmac-Signature": signature(SECRET, raw)})
    assert tampered.status_code == 401
    assert (await shipment_of(api, shipped))["status"] == "shipped"
    assert (await deliver(api, payload)).json()["duplicate"] is False  # the forged ones were not stored


async def test_the_webhook_needs_no_api_key_but_its_signature(
    api: httpx.AsyncClient, app: Any, shipped: dict[str, Any]
) -> None:
    raw = json.dumps(tracker_event("evt_nokey", "in_transit")).encode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as anonymous:
        response = await anonymous.post(WEBHOOK, content=raw, headers={"X-Hmac-Signature": signature(SECRET, raw)})
    assert response.status_code == 200, response.text
    assert (await shipment_of(api, shipped))["status"] == "in_transit"


@pytest.mark.parametrize(
    ("status", "shipment_status", "outcome"),
    [
        ("pre_transit", "shipped", "recorded"),
        ("in_transit", "in_transit", "applied"),
        ("out_for_delivery", "out_for_delivery", "applied"),
        ("available_for_pickup", "out_for_delivery", "applied"),
        ("delivered", "delivered", "applied"),
        ("return_to_sender", "returned_to_sender", "applied"),
        ("failure", "exception", "applied"),
        ("unknown", "shipped", "recorded"),
    ],
)
async def test_easypost_statuses_map_onto_shipment_states(
    api: httpx.AsyncClient, shipped: dict[str, Any], status: str, shipment_status: str, outcome: str
) -> None:
    response = await deliver(api, tracker_event(f"evt_{status}", status, message="Delivery attempt failed"))
    assert response.json()["outcome"] == outcome
    shipment = await shipment_of(api, shipped)
    assert shipment["status"] == shipment_status
    if status == "failure":
        assert shipment["status_reason"] == "Delivery attempt failed"
    if status == "delivered":
        assert (await api.get(f"/v1/orders/{shipped['order_id']}")).json()["status"] == "delivered"


async def test_stale_and_foreign_updates_are_kept_but_change_nothing(
    api: httpx.AsyncClient, shipped: dict[str, Any]
) -> None:
    await deliver(api, tracker_event("evt_a", "delivered"))
    stale = await deliver(api, tracker_event("evt_b", "in_transit"))
    assert stale.json()["outcome"] == "recorded"
    assert (await shipment_of(api, shipped))["status"] == "delivered"
    foreign = await deliver(api, tracker_event("evt_c", "in_transit", tracking_code="9400111899223100000000"))
    assert (foreign.status_code, foreign.json()["outcome"]) == (200, "ignored")
    other = await deliver(api, {**tracker_event("evt_d", "in_transit"), "description": "batch.updated"})
    assert other.json()["outcome"] == "ignored"


async def test_a_malformed_body_is_a_400(api: httpx.AsyncClient) -> None:
    for raw in (b"not json", b"[1, 2]", json.dumps({"object": "Event"}).encode()):
        response = await api.post(WEBHOOK, content=raw, headers={"X-Hmac-Signature": signature(SECRET, raw)})
        assert (response.status_code, response.json()["code"]) == (400, "malformed_delivery")


async def test_without_a_configured_secret_deliveries_are_refused(api: httpx.AsyncClient, app: Any) -> None:
    app.state.settings = app.state.settings.model_copy(update={"easypost_webhook_secret": None})
    response = await deliver(api, tracker_event("evt_x", "in_transit"))
    assert (response.status_code, response.json()["code"]) == (401, "easypost_not_configured")
