"""/v1/shipments through HTTP, on SQLite and PostgreSQL: from an order's reservations to delivered."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from oms_api.fulfillment.models import ShipmentLine
from oms_api.kit.db import create_engine, session_factory, session_scope
from tests.support.factories import (
    make_carrier,
    make_channel,
    make_sku,
    make_warehouse,
    place_order,
    receive,
    recorded_events,
)
from tests.support.ledger import assert_ledger_replays


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    """A channel, two warehouses (BIG preferred), a mug at BIG only and a tee at SMALL only, and a carrier."""
    channel = await make_channel(api)
    big = await make_warehouse(api, priority=10)
    small = await make_warehouse(api, priority=1)
    mug = await make_sku(api, weight_g=400)
    tee = await make_sku(api, weight_g=200)
    await receive(api, mug["sku"], big["code"], 10)
    await receive(api, tee["sku"], small["code"], 10)
    carrier = await make_carrier(api)
    return {
        "channel": channel["code"],
        "big": big["code"],
        "small": small["code"],
        "mug": mug["sku"],
        "tee": tee["sku"],
        "carrier": carrier["code"],
    }


async def level(api: httpx.AsyncClient, sku: str, warehouse: str) -> dict[str, int]:
    body = (await api.get(f"/v1/skus/{sku}/availability")).json()
    found = next(w for w in body["warehouses"] if w["warehouse"] == warehouse)
    return {"on_hand": found["on_hand"], "reserved": found["reserved"]}


async def order_status(api: httpx.AsyncClient, order_id: str) -> str:
    status: str = (await api.get(f"/v1/orders/{order_id}")).json()["status"]
    return status


async def shipments_for(api: httpx.AsyncClient, shop: dict[str, Any], lines: list[tuple[str, int]]) -> dict[str, Any]:
    order = await place_order(api, shop["channel"], lines)
    response = await api.post(f"/v1/orders/{order['id']}/shipments")
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def act(
    api: httpx.AsyncClient, shipment_id: str, action: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await api.post(f"/v1/shipments/{shipment_id}/{action}", json=body if body is not None else {})


async def ready_to_ship(api: httpx.AsyncClient, shipment_id: str) -> None:
    for action in ("start-picking", "pack"):
        response = await act(api, shipment_id, action)
        assert response.status_code == 200, response.text


async def test_creating_shipments_makes_one_per_warehouse_and_allocates_the_order(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 2), (shop["tee"], 1)])
    assert created["order_status"] == "allocated"
    by_warehouse = {s["warehouse"]: s for s in created["data"]}
    assert set(by_warehouse) == {shop["big"], shop["small"]}
    mug_shipment = by_warehouse[shop["big"]]
    assert mug_shipment["status"] == "pending"
    assert mug_shipment["allowed_transitions"] == ["cancelled", "picking"]
    assert [(line["sku"], line["quantity"]) for line in mug_shipment["lines"]] == [(shop["mug"], 2)]
    assert mug_shipment["pickup"] is False
    assert await order_status(api, created["order_id"]) == "allocated"
    order_events = [e["type"] for e in await recorded_events(database_url, created["order_id"])]
    assert order_events[-1] == "order.allocated"
    shipment_events = await recorded_events(database_url, mug_shipment["id"])
    assert [e["type"] for e in shipment_events] == ["shipment.created"]
    assert shipment_events[0]["data"]["lines"][0]["sku"] == shop["mug"]

    again = await api.post(f"/v1/orders/{created['order_id']}/shipments")
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_to_allocate"


async def test_the_whole_path_from_order_to_delivered(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 3)])
    shipment = created["data"][0]
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 10, "reserved": 3}

    picking = await act(api, shipment["id"], "start-picking")
    assert picking.json()["status"] == "picking"
    packed = await act(api, shipment["id"], "pack")
    assert packed.json()["status"] == "packed"
    assert packed.headers["etag"] == f'"{packed.json()["version"]}"'

    shipped = await act(api, shipment["id"], "ship", {"carrier": shop["carrier"], "service": "standard"})
    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert body["status"] == "shipped"
    assert (body["carrier"], body["service"]) == (shop["carrier"], "standard")
    assert len(body["tracking_numbers"]) == 1
    assert body["tracking_numbers"][0].startswith(shop["carrier"].upper().replace("-", "")[:8])
    assert body["packages"][0]["weight_g"] == 1200
    assert body["estimated_delivery_date"] is not None
    assert body["shipped_at"] is not None
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 7, "reserved": 0}
    assert await order_status(api, created["order_id"]) == "shipped"
    ledger = (await api.get("/v1/stock-movements", params={"type": "shipment"})).json()["data"]
    assert [(m["on_hand_delta"], m["reserved_delta"], m["reference"]) for m in ledger] == [
        (-3, -3, f"shipment:{shipment['id']}")
    ]
    allocation = (await api.get(f"/v1/orders/{created['order_id']}")).json()["lines"][0]["allocations"]
    assert [(a["quantity"], a["status"]) for a in allocation] == [(3, "fulfilled")]
    await assert_ledger_replays(database_url)

    delivered = await act(api, shipment["id"], "deliver", {})
    assert delivered.json()["status"] == "delivered"
    assert delivered.json()["delivered_at"] is not None
    assert await order_status(api, created["order_id"]) == "delivered"

    events = await recorded_events(database_url, shipment["id"])
    assert [e["type"] for e in events] == [
        "shipment.created",
        "shipment.picking",
        "shipment.packed",
        "shipment.shipped",
        "shipment.delivered",
    ]
    notification = events[3]["data"]
    assert notification["carrier"] == shop["carrier"]
    assert notification["tracking_numbers"] == body["tracking_numbers"]
    assert notification["estimated_delivery_date"] == body["estimated_delivery_date"]
    assert notification["previous_status"] == "packed"
    order_events = [e["type"] for e in await recorded_events(database_url, created["order_id"])]
    assert order_events[-3:] == ["order.allocated", "order.shipped", "order.delivered"]


async def test_shipping_one_of_two_shipments_partially_ships_the_order(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 1), (shop["tee"], 2)])
    first, second = created["data"]
    await ready_to_ship(api, first["id"])
    await act(api, first["id"], "ship", {"carrier": "other-carrier", "tracking_numbers": ["TRACK-0001"]})
    assert await order_status(api, created["order_id"]) == "partially_shipped"
    await ready_to_ship(api, second["id"])
    shipped = await act(api, second["id"], "ship", {"carrier": shop["carrier"]})
    assert shipped.json()["service"] is None
    assert await order_status(api, created["order_id"]) == "shipped"
    await act(api, first["id"], "deliver", {})
    assert await order_status(api, created["order_id"]) == "shipped"
    await act(api, second["id"], "deliver", {})
    assert await order_status(api, created["order_id"]) == "delivered"
    types = [e["type"] for e in await recorded_events(database_url, created["order_id"])]
    assert types[-4:] == ["order.allocated", "order.partially_shipped", "order.shipped", "order.delivered"]
    await assert_ledger_replays(database_url)


async def test_a_given_tracking_number_goes_on_the_package_and_may_not_be_reused(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    first = (await shipments_for(api, shop, [(shop["mug"], 1)]))["data"][0]
    second = (await shipments_for(api, shop, [(shop["mug"], 1)]))["data"][0]
    for shipment in (first, second):
        await ready_to_ship(api, shipment["id"])
    body = {"carrier": "dhl", "tracking_numbers": ["00340434161094042557"]}
    shipped = await act(api, first["id"], "ship", body)
    assert shipped.json()["tracking_numbers"] == ["00340434161094042557"]
    again = await act(api, second["id"], "ship", body)
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_tracking_number"
    assert (await api.get(f"/v1/shipments/{second['id']}")).json()["status"] == "packed"
    found = (await api.get("/v1/shipments", params={"tracking_number": "00340434161094042557"})).json()["data"]
    assert [s["id"] for s in found] == [first["id"]]


async def test_shipping_needs_a_carrier_and_a_packed_shipment(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    shipment = (await shipments_for(api, shop, [(shop["mug"], 1)]))["data"][0]
    early = await act(api, shipment["id"], "ship", {"carrier": "dhl"})
    assert early.status_code == 409
    assert early.json()["code"] == "illegal_transition"
    assert early.json()["allowed_transitions"] == ["cancelled", "picking"]
    await ready_to_ship(api, shipment["id"])
    no_carrier = await act(api, shipment["id"], "ship", {})
    assert no_carrier.status_code == 422
    assert no_carrier.json()["errors"][0]["pointer"] == "/body/carrier"
    assert (await api.get(f"/v1/shipments/{shipment['id']}")).json()["status"] == "packed"


async def test_cancelling_a_shipment_before_it_ships_releases_its_stock(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 4)])
    shipment = created["data"][0]
    await act(api, shipment["id"], "start-picking")
    cancelled = await act(api, shipment["id"], "cancel", {"reason": "customer called"})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["status_reason"]) == ("cancelled", "customer called")
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 10, "reserved": 0}
    allocation = (await api.get(f"/v1/orders/{created['order_id']}")).json()["lines"][0]["allocations"]
    assert [a["status"] for a in allocation] == ["released"]
    await assert_ledger_replays(database_url)
    assert (await act(api, shipment["id"], "cancel", {"reason": "twice"})).status_code == 409


async def test_a_shipped_shipment_cannot_be_cancelled(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    shipment = (await shipments_for(api, shop, [(shop["mug"], 1)]))["data"][0]
    await ready_to_ship(api, shipment["id"])
    await act(api, shipment["id"], "ship", {"carrier": "dhl"})
    refused = await act(api, shipment["id"], "cancel", {"reason": "too late"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "illegal_transition"
    assert "cancelled" not in refused.json()["allowed_transitions"]


async def test_cancelling_the_order_cancels_its_open_shipments(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 2), (shop["tee"], 1)])
    await act(api, created["data"][0]["id"], "start-picking")
    response = await api.post(f"/v1/orders/{created['order_id']}/cancel", json={"reason": "fraud"})
    assert response.status_code == 200, response.text
    for shipment in created["data"]:
        found = (await api.get(f"/v1/shipments/{shipment['id']}")).json()
        assert (found["status"], found["status_reason"]) == ("cancelled", "fraud")
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 10, "reserved": 0}
    assert await level(api, shop["tee"], shop["small"]) == {"on_hand": 10, "reserved": 0}
    await assert_ledger_replays(database_url)


async def test_cancelling_a_partly_shipped_order_cancels_what_has_not_shipped(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 1), (shop["tee"], 2)])
    shipped, rest = created["data"]
    await ready_to_ship(api, shipped["id"])
    await act(api, shipped["id"], "ship", {"carrier": "dhl"})
    response = await api.post(f"/v1/orders/{created['order_id']}/cancel", json={"reason": "customer asked"})
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "shipped"
    assert order["status_reason"] == "remainder cancelled: customer asked"
    by_sku = {line["sku"]: line for line in order["lines"]}
    assert by_sku[shop["mug"]]["cancelled_quantity"] == 0
    assert by_sku[shop["tee"]]["cancelled_quantity"] == 2
    assert (await api.get(f"/v1/shipments/{rest['id']}")).json()["status"] == "cancelled"
    assert await level(api, shop["tee"], shop["small"]) == {"on_hand": 10, "reserved": 0}
    types = [e["type"] for e in await recorded_events(database_url, created["order_id"])]
    assert types[-1] == "order.remainder_cancelled"
    # what did ship is delivered: the order is delivered, although the cancelled units never were
    await act(api, shipped["id"], "deliver")
    assert await order_status(api, created["order_id"]) == "delivered"
    refused = await api.post(f"/v1/orders/{created['order_id']}/cancel", json={"reason": "too late"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "illegal_transition"


async def test_a_held_order_cannot_be_picked_until_released(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 1)])
    shipment = created["data"][0]
    assert (
        await api.post(f"/v1/orders/{created['order_id']}/hold", json={"reason": "address check"})
    ).status_code == 200
    refused = await act(api, shipment["id"], "start-picking")
    assert refused.status_code == 409
    assert refused.json()["code"] == "order_on_hold"
    await api.post(f"/v1/orders/{created['order_id']}/release-hold", json={})
    assert (await act(api, shipment["id"], "start-picking")).status_code == 200


async def test_shipments_are_made_only_for_confirmed_orders(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)])
    await api.post(f"/v1/orders/{order['id']}/hold", json={"reason": "wait"})
    held = await api.post(f"/v1/orders/{order['id']}/shipments")
    assert (held.status_code, held.json()["code"]) == (409, "order_on_hold")
    missing = await api.post("/v1/orders/0190a0a0-0000-7000-8000-000000000000/shipments")
    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")


async def test_click_and_collect_reserves_at_the_pickup_warehouse_and_ends_picked_up(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    await receive(api, shop["mug"], shop["small"], 5)  # BIG is preferred, but the customer collects at SMALL
    order = await place_order(api, shop["channel"], [(shop["mug"], 2)], pickup_warehouse=shop["small"])
    assert order["lines"][0]["allocations"][0]["warehouse"] == shop["small"]
    assert order["pickup_warehouse_id"] is not None
    created = (await api.post(f"/v1/orders/{order['id']}/shipments")).json()
    shipment = created["data"][0]
    assert shipment["pickup"] is True
    assert (await act(api, shipment["id"], "ship", {"carrier": "dhl"})).status_code == 409
    await act(api, shipment["id"], "start-picking")
    ready = await act(api, shipment["id"], "ready-for-pickup")
    assert ready.json()["status"] == "ready_for_pickup"
    assert ready.json()["allowed_transitions"] == ["cancelled", "picked_up"]
    assert await level(api, shop["mug"], shop["small"]) == {"on_hand": 5, "reserved": 2}
    collected = await act(api, shipment["id"], "picked-up")
    assert collected.json()["status"] == "picked_up"
    assert await level(api, shop["mug"], shop["small"]) == {"on_hand": 3, "reserved": 0}
    assert await order_status(api, order["id"]) == "delivered"
    types = [e["type"] for e in await recorded_events(database_url, order["id"])]
    assert types[-3:] == ["order.allocated", "order.shipped", "order.delivered"]
    await assert_ledger_replays(database_url)


async def test_a_pickup_warehouse_without_the_stock_refuses_the_order(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    response = await api.post(
        "/v1/orders",
        json={
            "channel": shop["channel"],
            "external_ref": "pickup-1",
            "currency": "EUR",
            "shipping_address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"},
            "lines": [{"sku": shop["tee"], "quantity": 1, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
            "pickup_warehouse": shop["big"],
        },
    )
    assert (response.status_code, response.json()["code"]) == (409, "out_of_stock")
    unknown = await place_order_raw(api, shop, pickup_warehouse="NOPE")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/body/pickup_warehouse"


async def place_order_raw(api: httpx.AsyncClient, shop: dict[str, Any], **extra: Any) -> httpx.Response:
    body = {
        "channel": shop["channel"],
        "external_ref": "raw-1",
        "currency": "EUR",
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"},
        "lines": [{"sku": shop["mug"], "quantity": 1, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
        **extra,
    }
    return await api.post("/v1/orders", json=body)


async def test_shipments_list_filters_by_order_warehouse_and_status(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 1), (shop["tee"], 1)])
    other = await shipments_for(api, shop, [(shop["mug"], 1)])
    await act(api, other["data"][0]["id"], "start-picking")
    by_order = (await api.get("/v1/shipments", params={"order_id": created["order_id"]})).json()
    assert {s["id"] for s in by_order["data"]} == {s["id"] for s in created["data"]}
    by_warehouse = (await api.get("/v1/shipments", params={"warehouse": shop["big"]})).json()["data"]
    assert len(by_warehouse) == 2
    picking = (await api.get("/v1/shipments", params={"status": "picking"})).json()["data"]
    assert [s["id"] for s in picking] == [other["data"][0]["id"]]
    page = await api.get("/v1/shipments", params={"limit": 2})
    assert page.json()["has_more"] is True
    assert page.headers["link"]
    assert (await api.get("/v1/shipments", params={"warehouse": "NOWHERE"})).json()["data"] == []
    assert (await api.get("/v1/shipments", params={"status": "lost"})).status_code == 422
    missing = await api.get("/v1/shipments/0190a0a0-0000-7000-8000-000000000000")
    assert (missing.status_code, missing.json()["code"]) == (404, "shipment_not_found")


async def test_an_idempotent_retry_ships_once(api: httpx.AsyncClient, shop: dict[str, Any], database_url: str) -> None:
    shipment = (await shipments_for(api, shop, [(shop["mug"], 2)]))["data"][0]
    await ready_to_ship(api, shipment["id"])
    headers = {"Idempotency-Key": "ship-once"}
    first = await api.post(f"/v1/shipments/{shipment['id']}/ship", json={"carrier": "dhl"}, headers=headers)
    second = await api.post(f"/v1/shipments/{shipment['id']}/ship", json={"carrier": "dhl"}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 8, "reserved": 0}
    await assert_ledger_replays(database_url)


# --- concurrency ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cancel", ["order", "shipment"])
async def test_shipping_and_cancelling_at_once_never_leaves_stock_or_states_inconsistent(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str, cancel: str
) -> None:
    """Ship and cancel race on several orders at once; whichever wins, stock and states agree."""
    rounds = 6
    await receive(api, shop["mug"], shop["big"], 20)
    prepared = []
    for _ in range(rounds):
        created = await shipments_for(api, shop, [(shop["mug"], 2)])
        await ready_to_ship(api, created["data"][0]["id"])
        prepared.append(created)

    async def ship(created: dict[str, Any]) -> httpx.Response:
        return await act(api, created["data"][0]["id"], "ship", {"carrier": "dhl"})

    async def cancel_it(created: dict[str, Any]) -> httpx.Response:
        if cancel == "order":
            return await api.post(f"/v1/orders/{created['order_id']}/cancel", json={"reason": "race"})
        return await act(api, created["data"][0]["id"], "cancel", {"reason": "race"})

    calls = [call(created) for created in prepared for call in (ship, cancel_it)]
    answers = await asyncio.gather(*calls)
    shipped = cancelled = 0
    for created, (ship_answer, cancel_answer) in zip(
        prepared, zip(answers[::2], answers[1::2], strict=True), strict=True
    ):
        assert {ship_answer.status_code, cancel_answer.status_code} <= {200, 409}, (
            ship_answer.text,
            cancel_answer.text,
        )
        assert (ship_answer.status_code == 200) != (cancel_answer.status_code == 200), "exactly one of them wins"
        shipment = (await api.get(f"/v1/shipments/{created['data'][0]['id']}")).json()
        status = await order_status(api, created["order_id"])
        if ship_answer.status_code == 200:
            shipped += 1
            assert shipment["status"] == "shipped"
            assert status == "shipped"
        else:
            cancelled += 1
            assert shipment["status"] == "cancelled"
            assert status == ("cancelled" if cancel == "order" else "allocated")
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 30 - 2 * shipped, "reserved": 0}
    await assert_ledger_replays(database_url)


async def _mark_short(database_url: str, shipment_id: str, short: int) -> None:
    """What a short pick records on the shipment line (the picking context does this through its API)."""
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await session.execute(
                update(ShipmentLine)
                .where(ShipmentLine.shipment_id == uuid.UUID(shipment_id))
                .values(short_quantity=short, picked_quantity=ShipmentLine.quantity - short)
            )
    finally:
        await engine.dispose()


async def test_units_short_at_pick_time_stay_reserved_and_get_their_own_shipment(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    created = await shipments_for(api, shop, [(shop["mug"], 3)])
    first = created["data"][0]
    await act(api, first["id"], "start-picking")
    await _mark_short(database_url, first["id"], 1)
    await act(api, first["id"], "pack")
    shipped = await act(api, first["id"], "ship", {"carrier": "dhl"})
    assert shipped.status_code == 200, shipped.text
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 8, "reserved": 1}
    assert await order_status(api, created["order_id"]) == "partially_shipped"
    allocations = (await api.get(f"/v1/orders/{created['order_id']}")).json()["lines"][0]["allocations"]
    assert sorted((a["quantity"], a["status"]) for a in allocations) == [(1, "active"), (2, "fulfilled")]
    await assert_ledger_replays(database_url)

    rest = await api.post(f"/v1/orders/{created['order_id']}/shipments")
    assert rest.status_code == 201, rest.text
    second = rest.json()["data"][0]
    assert [(line["quantity"], line["short_quantity"]) for line in second["lines"]] == [(1, 0)]
    await ready_to_ship(api, second["id"])
    await act(api, second["id"], "ship", {"carrier": "dhl"})
    assert await order_status(api, created["order_id"]) == "shipped"
    assert await level(api, shop["mug"], shop["big"]) == {"on_hand": 7, "reserved": 0}
    await assert_ledger_replays(database_url)
