"""Sourcing through HTTP, on SQLite and PostgreSQL: distance, policies, explanations, allocate and reallocate."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import KeyMaker
from tests.support.factories import make_channel, make_sku, make_warehouse, place_order, receive, recorded_events
from tests.support.ledger import assert_ledger_replays

MUNICH = {"line1": "Marienplatz 1", "city": "München", "postal_code": "80331", "country": "DE"}
HAMBURG_COORDINATES = {"latitude": 53.5511, "longitude": 9.9937}


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    """A channel; a Munich warehouse and a Hamburg one that has the higher priority; a SKU stocked in both."""
    channel = await make_channel(api)
    munich = await make_warehouse(
        api,
        latitude=48.1374,
        longitude=11.5755,
        priority=0,
        address={"line1": "1 Dock Road", "city": "Munich", "country": "DE"},
    )
    hamburg = await make_warehouse(
        api,
        priority=10,
        address={"line1": "1 Dock Road", "city": "Hamburg", "country": "DE"},
        **HAMBURG_COORDINATES,
    )
    mug = await make_sku(api)
    await receive(api, mug["sku"], munich["code"], 5)
    await receive(api, mug["sku"], hamburg["code"], 5)
    return {"channel": channel["code"], "muc": munich["code"], "ham": hamburg["code"], "mug": mug["sku"]}


def warehouses_of(order: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in order["lines"]:
        for a in line["allocations"]:
            if a["status"] == "active":
                found[a["warehouse"]] = found.get(a["warehouse"], 0) + a["quantity"]
    return found


async def reserved(api: httpx.AsyncClient, sku: str) -> dict[str, int]:
    body = (await api.get(f"/v1/skus/{sku}/availability")).json()
    return {w["warehouse"]: w["reserved"] for w in body["warehouses"]}


def verdict(plan: dict[str, Any], warehouse: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in plan["warehouses"] if v["warehouse"] == warehouse)
    return found


async def test_a_munich_order_ships_from_munich_although_hamburg_has_the_higher_priority(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 2)], shipping_address=MUNICH)
    assert warehouses_of(order) == {shop["muc"]: 2}
    response = await api.get(f"/v1/orders/{order['id']}/allocation")
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["trigger"], plan["strategy"], plan["decision"], plan["shipments"]) == (
        "placement",
        "nearest",
        "single_warehouse",
        1,
    )
    assert plan["destination"]["precision"] == "city"
    assert plan["destination"]["place"] == "Munich, DE"
    part = plan["lines"][0]["allocations"][0]
    assert (part["warehouse"], part["quantity"], part["rule"]) == (shop["muc"], 2, "single_warehouse")
    assert part["distance_km"] < 5
    hamburg = verdict(plan, shop["ham"])
    assert (hamburg["status"], hamburg["reason"]) == ("not_chosen", "farther")
    assert 600 < hamburg["distance_km"] < 620
    assert "nearest" in plan["summary"]
    assert plan["rules"] == ["hard_constraints", "fewest_shipments", "distance", "priority", "max_splits"]


async def test_coordinates_on_the_address_beat_the_geocoder(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    address = {**MUNICH, **HAMBURG_COORDINATES}
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=address)
    assert warehouses_of(order) == {shop["ham"]: 1}
    plan = (await api.get(f"/v1/orders/{order['id']}/allocation")).json()
    assert plan["destination"]["precision"] == "address"


async def test_an_address_that_cannot_be_located_falls_back_to_priority_and_says_so(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    nowhere = {"line1": "Research Station", "city": "Nowhere Camp", "country": "AQ"}
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=nowhere)
    assert warehouses_of(order) == {shop["ham"]: 1}
    plan = (await api.get(f"/v1/orders/{order['id']}/allocation")).json()
    assert plan["destination"]["precision"] is None
    assert any("could not be located" in note for note in plan["notes"])
    assert "highest priority" in plan["summary"]
    assert verdict(plan, shop["muc"])["reason"] == "lower_priority"


async def test_an_unknown_town_is_located_by_its_country(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    address = {"line1": "Dorfstr. 1", "city": "Kleinkleckersdorf", "country": "DE"}
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=address)
    plan = (await api.get(f"/v1/orders/{order['id']}/allocation")).json()
    assert plan["destination"]["precision"] == "country"
    assert any("country's centre" in note for note in plan["notes"])


async def test_a_warehouse_that_does_not_serve_the_country_is_rejected(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    patched = await api.patch(f"/v1/warehouses/{shop['muc']}", json={"serves_countries": ["AT", "CH", "AT"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["serves_countries"] == ["AT", "CH"]
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=MUNICH)
    assert warehouses_of(order) == {shop["ham"]: 1}
    plan = (await api.get(f"/v1/orders/{order['id']}/allocation")).json()
    assert (verdict(plan, shop["muc"])["status"], verdict(plan, shop["muc"])["reason"]) == (
        "rejected",
        "does_not_serve_country",
    )


async def test_serves_countries_takes_iso_codes_only(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    response = await api.patch(f"/v1/warehouses/{shop['muc']}", json={"serves_countries": ["XX"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"].startswith("/body/serves_countries/0")
    assert (await api.get(f"/v1/warehouses/{shop['ham']}")).json()["serves_countries"] == []


async def test_safety_stock_is_never_promised(api: httpx.AsyncClient, shop: dict[str, Any], database_url: str) -> None:
    levels = (await api.get("/v1/stock-levels", params={"sku": shop["mug"], "warehouse": shop["muc"]})).json()
    patched = await api.patch(f"/v1/stock-levels/{levels['data'][0]['id']}", json={"safety_stock": 4})
    assert patched.status_code == 200, patched.text
    order = await place_order(api, shop["channel"], [(shop["mug"], 2)], shipping_address=MUNICH)
    assert warehouses_of(order) == {shop["ham"]: 2}
    refused = await api.post(
        "/v1/orders",
        json={
            "channel": shop["channel"],
            "external_ref": "too-many",
            "currency": "EUR",
            "shipping_address": MUNICH,
            "lines": [{"sku": shop["mug"], "quantity": 5, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
        },
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "out_of_stock"
    assert refused.json()["shortages"] == [{"sku": shop["mug"], "requested": 5, "available": 4}]
    await assert_ledger_replays(database_url)


async def test_the_channel_policy_is_shown_and_its_allowed_warehouses_are_honoured(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    channel = (await api.get(f"/v1/channels/{shop['channel']}")).json()
    assert channel["sourcing"] == {
        "strategy": "nearest",
        "allowed_warehouses": [],
        "max_splits": None,
        "allow_partial_shipment": True,
    }
    patched = await api.patch(
        f"/v1/channels/{shop['channel']}", json={"sourcing": {"allowed_warehouses": [shop["ham"]]}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["sourcing"]["allowed_warehouses"] == [shop["ham"]]
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=MUNICH)
    assert warehouses_of(order) == {shop["ham"]: 1}
    plan = (await api.get(f"/v1/orders/{order['id']}/allocation")).json()
    assert verdict(plan, shop["muc"])["reason"] == "not_allowed_by_channel"


async def test_the_priority_strategy_prefers_priority_over_distance(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    patched = await api.patch(f"/v1/channels/{shop['channel']}", json={"sourcing": {"strategy": "priority"}})
    assert patched.json()["sourcing"]["strategy"] == "priority"
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=MUNICH)
    assert warehouses_of(order) == {shop["ham"]: 1}
    plan = (await api.get(f"/v1/orders/{order['id']}/allocation")).json()
    assert plan["rules"][2] == "priority"
    reset = await api.patch(f"/v1/channels/{shop['channel']}", json={"sourcing": {"strategy": None}})
    assert reset.json()["sourcing"]["strategy"] == "nearest"


async def test_a_channel_that_never_splits_refuses_an_order_only_a_split_could_serve(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    body = {"sourcing": {"max_splits": 0}}
    assert (await api.patch(f"/v1/channels/{shop['channel']}", json=body)).status_code == 200
    body_order = {
        "channel": shop["channel"],
        "external_ref": "split-me",
        "currency": "EUR",
        "shipping_address": MUNICH,
        "lines": [{"sku": shop["mug"], "quantity": 7, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
    }
    refused = await api.post("/v1/orders", json=body_order)
    assert refused.status_code == 409
    assert refused.json()["code"] == "out_of_stock"
    assert (await reserved(api, shop["mug"])) == {shop["muc"]: 0, shop["ham"]: 0}
    assert (await api.patch(f"/v1/channels/{shop['channel']}", json={"sourcing": {"max_splits": 1}})).status_code == 200
    placed = await api.post("/v1/orders", json=body_order)
    assert placed.status_code == 201, placed.text
    assert warehouses_of(placed.json()) == {shop["muc"]: 5, shop["ham"]: 2}
    await assert_ledger_replays(database_url)


async def test_partial_shipment_off_means_one_warehouse(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    body = {"sourcing": {"allow_partial_shipment": False}}
    assert (await api.patch(f"/v1/channels/{shop['channel']}", json=body)).json()["sourcing"][
        "allow_partial_shipment"
    ] is False
    response = await api.post(
        "/v1/orders",
        json={
            "channel": shop["channel"],
            "external_ref": "whole",
            "currency": "EUR",
            "shipping_address": MUNICH,
            "lines": [{"sku": shop["mug"], "quantity": 6, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"


async def test_an_unknown_allowed_warehouse_or_strategy_is_422(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    unknown = await api.patch(f"/v1/channels/{shop['channel']}", json={"sourcing": {"allowed_warehouses": ["NOPE"]}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "pointer": "/body/sourcing/allowed_warehouses/0",
        "detail": "no warehouse 'NOPE'",
        "code": "unknown_warehouse",
    }
    bad = await api.patch(f"/v1/channels/{shop['channel']}", json={"sourcing": {"strategy": "cheapest"}})
    assert bad.status_code == 422
    splits = await api.patch(f"/v1/channels/{shop['channel']}", json={"sourcing": {"max_splits": -1}})
    assert splits.status_code == 422


async def test_allocate_re_sources_an_order_without_the_excluded_warehouse(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 3)], shipping_address=MUNICH)
    assert warehouses_of(order) == {shop["muc"]: 3}
    response = await api.post(
        f"/v1/orders/{order['id']}/allocate",
        json={"exclude_warehouses": [shop["muc"]], "reason": "Munich closed for inventory"},
        headers={"Idempotency-Key": "allocate-1"},
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["trigger"], plan["reason"]) == ("allocate", "Munich closed for inventory")
    assert plan["lines"][0]["allocations"][0]["warehouse"] == shop["ham"]
    assert verdict(plan, shop["muc"])["reason"] == "excluded"
    assert (await reserved(api, shop["mug"])) == {shop["muc"]: 0, shop["ham"]: 3}
    after = (await api.get(f"/v1/orders/{order['id']}")).json()
    assert warehouses_of(after) == {shop["ham"]: 3}
    assert after["version"] == order["version"] + 1
    events = [e for e in await recorded_events(database_url, order["id"]) if e["type"] == "order.allocation_changed"]
    assert len(events) == 1
    data = events[0]["data"]
    assert (data["trigger"], data["shipments"]) == ("allocate", 1)
    assert [(p["warehouse"], p["quantity"]) for p in data["released"]] == [(shop["muc"], 3)]
    assert [(p["warehouse"], p["quantity"]) for p in data["allocations"]] == [(shop["ham"], 3)]
    again = await api.post(f"/v1/orders/{order['id']}/allocate", json={})
    assert again.status_code == 200
    assert (await reserved(api, shop["mug"])) == {shop["muc"]: 3, shop["ham"]: 0}
    await assert_ledger_replays(database_url)


async def test_allocate_without_stock_elsewhere_is_409_and_changes_nothing(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 6)], shipping_address=MUNICH)
    before = await reserved(api, shop["mug"])
    response = await api.post(f"/v1/orders/{order['id']}/allocate", json={"exclude_warehouses": [shop["ham"]]})
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["shortages"] == [{"sku": shop["mug"], "requested": 6, "available": 5}]
    assert (await reserved(api, shop["mug"])) == before
    assert (await api.get(f"/v1/orders/{order['id']}")).json()["version"] == order["version"]
    await assert_ledger_replays(database_url)


async def test_allocate_refuses_cancelled_orders_and_unknown_warehouses(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=MUNICH)
    unknown = await api.post(f"/v1/orders/{order['id']}/allocate", json={"exclude_warehouses": ["NOPE"]})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/body/exclude_warehouses/0"
    await api.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "test"})
    cancelled = await api.post(f"/v1/orders/{order['id']}/allocate", json={})
    assert cancelled.status_code == 409
    assert cancelled.json()["code"] == "order_not_allocatable"
    missing = await api.post("/v1/orders/0190a0a0-0000-7000-8000-000000000000/allocate", json={})
    assert missing.status_code == 404


async def test_reallocate_moves_a_short_picked_part_to_another_warehouse(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 3)], shipping_address=MUNICH)
    response = await api.post(
        f"/v1/orders/{order['id']}/reallocate",
        json={"moves": [{"line_no": 1, "warehouse": shop["muc"], "quantity": 1}], "reason": "short pick"},
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["trigger"], plan["reason"], plan["shipments"]) == ("reallocate", "short pick", 2)
    parts = {(p["warehouse"], p["quantity"], p["rule"]) for p in plan["lines"][0]["allocations"]}
    assert parts == {(shop["muc"], 2, "unchanged"), (shop["ham"], 1, "single_warehouse")}
    assert verdict(plan, shop["muc"])["reason"] == "excluded"
    assert (await reserved(api, shop["mug"])) == {shop["muc"]: 2, shop["ham"]: 1}
    after = (await api.get(f"/v1/orders/{order['id']}")).json()
    assert warehouses_of(after) == {shop["muc"]: 2, shop["ham"]: 1}
    events = [e for e in await recorded_events(database_url, order["id"]) if e["type"] == "order.allocation_changed"]
    assert [(p["warehouse"], p["quantity"]) for p in events[0]["data"]["released"]] == [(shop["muc"], 1)]
    history = (await api.get(f"/v1/orders/{order['id']}/events")).json()["data"]
    assert history[-1]["type"] == "order.allocation_changed"
    await assert_ledger_replays(database_url)


async def test_reallocate_checks_lines_warehouses_and_quantities(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 2)], shipping_address=MUNICH)
    response = await api.post(
        f"/v1/orders/{order['id']}/reallocate",
        json={
            "moves": [
                {"line_no": 9, "warehouse": shop["muc"], "quantity": 1},
                {"line_no": 1, "warehouse": "NOPE", "quantity": 1},
                {"line_no": 1, "warehouse": shop["ham"], "quantity": 1},
                {"line_no": 1, "warehouse": shop["muc"], "quantity": 3},
            ],
            "reason": "short pick",
        },
    )
    assert response.status_code == 422
    assert [(e["pointer"], e["code"]) for e in response.json()["errors"]] == [
        ("/body/moves/0/line_no", "unknown_line"),
        ("/body/moves/1/warehouse", "unknown_warehouse"),
        ("/body/moves/2/quantity", "not_allocated_there"),
        ("/body/moves/3/quantity", "not_allocated_there"),
    ]
    empty = await api.post(f"/v1/orders/{order['id']}/reallocate", json={"moves": [], "reason": "x"})
    assert empty.status_code == 422


async def test_reallocate_with_nowhere_to_go_is_409_and_changes_nothing(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 5)], shipping_address=MUNICH)
    await place_order(api, shop["channel"], [(shop["mug"], 5)], shipping_address=MUNICH)  # Hamburg is sold out
    response = await api.post(
        f"/v1/orders/{order['id']}/reallocate",
        json={"moves": [{"line_no": 1, "warehouse": shop["muc"], "quantity": 2}], "reason": "warehouse closed"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert (await reserved(api, shop["mug"])) == {shop["muc"]: 5, shop["ham"]: 5}
    await assert_ledger_replays(database_url)


async def test_the_explanation_of_an_unknown_order_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/orders/0190a0a0-0000-7000-8000-000000000000/allocation")
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"


async def test_a_reader_may_read_the_explanation_but_not_allocate(
    api: httpx.AsyncClient, shop: dict[str, Any], client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    order = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=MUNICH)
    reader = {"Authorization": f"Bearer {await make_key('orders:read')}"}
    assert (await client.get(f"/v1/orders/{order['id']}/allocation", headers=reader)).status_code == 200
    refused = await client.post(f"/v1/orders/{order['id']}/allocate", json={}, headers=reader)
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")


async def test_a_batch_sources_vip_orders_first_where_stock_is_contested(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    regular = await place_order(api, shop["channel"], [(shop["mug"], 4)], shipping_address=MUNICH)
    vip = await place_order(api, shop["channel"], [(shop["mug"], 4)], shipping_address=MUNICH, tags=["vip"])
    assert (warehouses_of(regular), warehouses_of(vip)) == ({shop["muc"]: 4}, {shop["ham"]: 4})
    response = await api.post(
        "/v1/orders/allocate-batch", json={"order_ids": [regular["id"], vip["id"]], "reason": "nightly rebalance"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [a["order_id"] for a in result["allocated"]] == [vip["id"], regular["id"]]
    assert result["unchanged"] == []
    assert warehouses_of((await api.get(f"/v1/orders/{vip['id']}")).json()) == {shop["muc"]: 4}
    assert warehouses_of((await api.get(f"/v1/orders/{regular['id']}")).json()) == {shop["ham"]: 4}
    assert (await reserved(api, shop["mug"])) == {shop["muc"]: 4, shop["ham"]: 4}
    plan = (await api.get(f"/v1/orders/{vip['id']}/allocation")).json()
    assert (plan["trigger"], plan["reason"]) == ("allocate", "nightly rebalance")
    events = [e for e in await recorded_events(database_url, vip["id"]) if e["type"] == "order.allocation_changed"]
    assert [(p["warehouse"], p["quantity"]) for p in events[0]["data"]["allocations"]] == [(shop["muc"], 4)]
    assert (await api.get(f"/v1/orders/{vip['id']}")).json()["version"] == vip["version"] + 1
    await assert_ledger_replays(database_url)


async def test_an_order_a_batch_cannot_source_or_would_not_move_keeps_its_stock(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    vip = await place_order(api, shop["channel"], [(shop["mug"], 4)], shipping_address=MUNICH, tags=["vip"])
    regular = await place_order(api, shop["channel"], [(shop["mug"], 4)], shipping_address=MUNICH)
    cancelled = await place_order(api, shop["channel"], [(shop["mug"], 1)], shipping_address=MUNICH)
    await api.post(f"/v1/orders/{cancelled['id']}/cancel", json={"reason": "test"})
    await api.patch(f"/v1/channels/{shop['channel']}", json={"sourcing": {"allowed_warehouses": [shop["muc"]]}})
    missing = "0190a0a0-0000-7000-8000-000000000000"
    response = await api.post(
        "/v1/orders/allocate-batch", json={"order_ids": [regular["id"], vip["id"], cancelled["id"], missing]}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["allocated"] == []
    assert {u["order_id"]: u["reason"] for u in result["unchanged"]} == {
        vip["id"]: "same_allocation",
        regular["id"]: "out_of_stock",
        cancelled["id"]: "order_not_allocatable",
        missing: "order_not_found",
    }
    after = (await api.get(f"/v1/orders/{regular['id']}")).json()
    assert warehouses_of(after) == {shop["ham"]: 4}
    assert after["version"] == regular["version"]
    assert (await reserved(api, shop["mug"])) == {shop["muc"]: 4, shop["ham"]: 4}
    await assert_ledger_replays(database_url)
