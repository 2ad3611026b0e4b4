"""/v1/orders through HTTP, on SQLite and PostgreSQL: placement reserves stock all or nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.factories import make_channel, make_customer, make_sku, make_warehouse, receive
from tests.support.ledger import assert_ledger_replays


def order_body(channel: str, lines: list[tuple[str, int, str]], **extra: Any) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_ref": extra.pop("external_ref", "1001"),
        "currency": extra.pop("currency", "EUR"),
        "customer": extra.pop("customer", {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}),
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [
            {"sku": sku, "quantity": qty, "unit_price": {"amount": price, "currency": "EUR"}}
            for sku, qty, price in lines
        ],
        **extra,
    }


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    """A channel, two warehouses (BIG preferred) and two SKUs with stock."""
    channel = await make_channel(api)
    big = await make_warehouse(api, priority=10)
    small = await make_warehouse(api, priority=1)
    mug, tee = await make_sku(api), await make_sku(api)
    await receive(api, mug["sku"], big["code"], 5)
    await receive(api, mug["sku"], small["code"], 3)
    await receive(api, tee["sku"], small["code"], 4)
    return {
        "channel": channel["code"],
        "big": big["code"],
        "small": small["code"],
        "mug": mug["sku"],
        "tee": tee["sku"],
    }


async def availability(api: httpx.AsyncClient, sku: str) -> dict[str, dict[str, int]]:
    body = (await api.get(f"/v1/skus/{sku}/availability")).json()
    return {w["warehouse"]: {"on_hand": w["on_hand"], "reserved": w["reserved"]} for w in body["warehouses"]}


async def test_placing_an_order_reserves_stock_and_computes_totals(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    body = order_body(
        shop["channel"], [(shop["mug"], 2, "12.50")], tags=["vip"], shipping_price={"amount": "4.90", "currency": "EUR"}
    )
    body["lines"][0]["tax_rate"] = "0.19"
    response = await api.post("/v1/orders", json=body, headers={"Idempotency-Key": "place-1"})
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "confirmed"
    assert order["totals"]["subtotal"] == {"amount": "25.00", "currency": "EUR"}
    assert order["totals"]["tax_total"] == {"amount": "4.75", "currency": "EUR"}
    assert order["totals"]["grand_total"] == {"amount": "34.65", "currency": "EUR"}
    assert order["lines"][0]["allocations"] == [
        {
            "warehouse": shop["big"],
            "warehouse_id": order["lines"][0]["allocations"][0]["warehouse_id"],
            "quantity": 2,
            "status": "active",
        }
    ]
    assert response.headers["location"] == f"/v1/orders/{order['id']}"
    assert (await availability(api, shop["mug"]))[shop["big"]] == {"on_hand": 5, "reserved": 2}
    fetched = await api.get(f"/v1/orders/{order['id']}")
    assert fetched.json() == order
    assert fetched.headers["etag"] == f'"{order["version"]}"'
    await assert_ledger_replays(database_url)


async def test_an_order_one_warehouse_can_serve_whole_is_not_split(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    response = await api.post(
        "/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.00"), (shop["tee"], 1, "1.00")])
    )
    assert response.status_code == 201, response.text
    warehouses = {a["warehouse"] for line in response.json()["lines"] for a in line["allocations"]}
    assert warehouses == {shop["small"]}


async def test_a_line_larger_than_any_warehouse_is_split(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    response = await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 7, "1.00")]))
    assert response.status_code == 201, response.text
    parts = {a["warehouse"]: a["quantity"] for a in response.json()["lines"][0]["allocations"]}
    assert parts == {shop["big"]: 5, shop["small"]: 2}


async def test_not_enough_stock_refuses_the_whole_order_and_names_each_short_sku(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    body = order_body(shop["channel"], [(shop["mug"], 1, "1.00"), (shop["tee"], 9, "1.00")])
    response = await api.post("/v1/orders", json=body)
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "out_of_stock"
    assert problem["shortages"] == [{"sku": shop["tee"], "requested": 9, "available": 4}]
    assert (await availability(api, shop["mug"]))[shop["big"]]["reserved"] == 0
    assert (await api.get("/v1/orders")).json()["data"] == []
    await assert_ledger_replays(database_url)


async def test_the_same_external_ref_twice_in_a_channel_is_a_conflict_pointing_at_the_order(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    body = order_body(shop["channel"], [(shop["mug"], 1, "1.00")], external_ref="X-1")
    first = (await api.post("/v1/orders", json=body)).json()
    again = await api.post("/v1/orders", json=body)
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_order"
    assert again.json()["existing_id"] == first["id"]
    assert again.headers["location"] == f"/v1/orders/{first['id']}"
    assert (await availability(api, shop["mug"]))[shop["big"]]["reserved"] == 1


async def test_an_idempotent_retry_places_the_order_once(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    body = order_body(shop["channel"], [(shop["mug"], 1, "1.00")])
    first = await api.post("/v1/orders", json=body, headers={"Idempotency-Key": "retry-me"})
    second = await api.post("/v1/orders", json=body, headers={"Idempotency-Key": "retry-me"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert (await availability(api, shop["mug"]))[shop["big"]]["reserved"] == 1


async def test_unknown_sku_channel_and_currency_mismatch_are_422_with_pointers(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    unknown = await api.post("/v1/orders", json=order_body(shop["channel"], [("NOPE", 1, "1.00")]))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "pointer": "/body/lines/0/sku",
        "detail": "unknown SKU 'NOPE'",
        "code": "unknown_sku",
    }
    no_channel = await api.post("/v1/orders", json=order_body("nowhere", [(shop["mug"], 1, "1.00")]))
    assert no_channel.json()["errors"][0]["pointer"] == "/body/channel"
    mismatch = order_body(shop["channel"], [(shop["mug"], 1, "1.00")], currency="GBP")
    response = await api.post("/v1/orders", json=mismatch)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/body/lines/0/unit_price/currency"


async def test_too_many_decimals_for_the_currency_are_refused(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    response = await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.005")]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"].startswith("/body/lines/0/unit_price")


async def test_cancelling_releases_the_reservations_and_is_recorded(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    order = (await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 7, "1.00")]))).json()
    cancelled = await api.post(
        f"/v1/orders/{order['id']}/cancel",
        json={"reason": "customer changed mind"},
        headers={"If-Match": f'"{order["version"]}"'},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["status_reason"] == "customer changed mind"
    assert all(a["status"] == "released" for a in cancelled.json()["lines"][0]["allocations"])
    levels = await availability(api, shop["mug"])
    assert levels[shop["big"]]["reserved"] == levels[shop["small"]]["reserved"] == 0
    again = await api.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "twice"})
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    assert again.json()["allowed_transitions"] == []
    history = (await api.get(f"/v1/orders/{order['id']}/events")).json()["data"]
    assert [(e["type"], e["from_status"], e["to_status"]) for e in history] == [
        ("order.created", None, "pending"),
        ("order.confirmed", "pending", "confirmed"),
        ("order.cancelled", "confirmed", "cancelled"),
    ]
    assert history[2]["reason"] == "customer changed mind"
    assert history[2]["actor"].startswith("api_key:")
    await assert_ledger_replays(database_url)


async def test_cancelling_with_a_stale_if_match_is_412_and_changes_nothing(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    order = (await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.00")]))).json()
    stale = await api.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "x"}, headers={"If-Match": '"99"'})
    assert stale.status_code == 412
    assert (await api.get(f"/v1/orders/{order['id']}")).json()["status"] == "confirmed"


async def test_hold_and_release_return_the_order_to_where_it_was(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    order = (await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.00")]))).json()
    held = await api.post(f"/v1/orders/{order['id']}/hold", json={"reason": "fraud check"})
    assert held.json()["status"] == "on_hold"
    assert (await availability(api, shop["mug"]))[shop["big"]]["reserved"] == 1
    released = await api.post(f"/v1/orders/{order['id']}/release-hold", json={})
    assert released.json()["status"] == "confirmed"
    not_held = await api.post(f"/v1/orders/{order['id']}/release-hold", json={})
    assert not_held.status_code == 409
    assert not_held.json()["code"] == "not_on_hold"


async def test_patch_changes_tags_and_address_with_if_match(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    order = (await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.00")]))).json()
    address = {"line1": "2 Side St", "city": "Hamburg", "country": "DE"}
    changed = await api.patch(
        f"/v1/orders/{order['id']}",
        json={"tags": ["gift", "vip"], "shipping_address": address},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["gift", "vip"]
    assert changed.json()["shipping_address"]["city"] == "Hamburg"
    assert changed.json()["version"] == 2


async def test_orders_are_listed_and_filtered(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    customer = await make_customer(api)
    for n in range(3):
        extra: dict[str, Any] = {"external_ref": f"L-{n}", "tags": ["vip"] if n == 1 else []}
        if n == 2:
            extra["customer"] = {"id": customer["id"]}
        assert (
            await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.00")], **extra))
        ).status_code == 201
    everything = (await api.get("/v1/orders", params={"limit": 2})).json()
    assert len(everything["data"]) == 2
    assert everything["has_more"] is True
    vip = (await api.get("/v1/orders", params={"tag": "vip"})).json()["data"]
    assert [o["external_ref"] for o in vip] == ["L-1"]
    mine = (await api.get(f"/v1/customers/{customer['id']}/orders")).json()["data"]
    assert [o["external_ref"] for o in mine] == ["L-2"]
    assert mine[0]["grand_total"] == {"amount": "1.00", "currency": "EUR"}


async def test_an_inline_customer_is_matched_by_email(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    customer = await make_customer(api, email="grace@example.com")
    body = order_body(shop["channel"], [(shop["mug"], 1, "1.00")], customer={"email": "Grace@Example.com"})
    order = (await api.post("/v1/orders", json=body)).json()
    assert order["customer_id"] == customer["id"]


async def test_an_unknown_order_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/orders/0190a0a0-0000-7000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"


async def test_an_absent_billing_address_is_stored_as_sql_null(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    from sqlalchemy import func, select

    from oms_api.kit.db import create_engine, session_factory
    from oms_api.orders.models import Order

    order = (await api.post("/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.00")]))).json()
    assert order["billing_address"] is None
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            nulls = await session.scalar(select(func.count()).where(Order.billing_address.is_(None)))
    finally:
        await engine.dispose()
    assert nulls == 1


async def test_a_customer_and_a_channel_named_by_id_are_checked_in_one_read(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    customer = await make_customer(api)
    channel = (await api.get(f"/v1/channels/{shop['channel']}")).json()
    body = order_body(channel["id"], [(shop["mug"], 1, "1.00")], customer={"id": customer["id"]})
    placed = await api.post("/v1/orders", json=body)
    assert placed.status_code == 201, placed.text
    assert placed.json()["customer_id"] == customer["id"]
    assert placed.json()["channel"] == shop["channel"]

    ghost = "01900000-0000-7000-8000-000000000000"
    unknown = order_body(shop["channel"], [(shop["mug"], 1, "1.00")], customer={"id": ghost}, external_ref="2")
    response = await api.post("/v1/orders", json=unknown)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "pointer": "/body/customer/id",
        "detail": "no customer has this id",
        "code": "unknown_customer",
    }
    no_channel = order_body(ghost, [(shop["mug"], 1, "1.00")], customer={"id": customer["id"]}, external_ref="3")
    assert (await api.post("/v1/orders", json=no_channel)).json()["errors"][0]["code"] == "unknown_channel"
    assert (await api.patch(f"/v1/channels/{shop['channel']}", json={"active": False})).status_code == 200
    closed = order_body(channel["id"], [(shop["mug"], 1, "1.00")], customer={"id": customer["id"]}, external_ref="4")
    assert (await api.post("/v1/orders", json=closed)).json()["errors"][0]["code"] == "channel_inactive"
    assert (await availability(api, shop["mug"]))[shop["big"]]["reserved"] == 1  # the first order only


async def test_a_sku_with_no_stock_level_or_only_at_a_closed_warehouse_is_out_of_stock(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    never_stocked = await make_sku(api)
    response = await api.post(
        "/v1/orders", json=order_body(shop["channel"], [(shop["mug"], 1, "1.00"), (never_stocked["sku"], 1, "1.00")])
    )
    assert response.status_code == 409, response.text
    assert response.json()["shortages"] == [{"sku": never_stocked["sku"], "requested": 1, "available": 0}]

    closed = await make_warehouse(api)
    stocked_there = await make_sku(api)
    await receive(api, stocked_there["sku"], closed["code"], 5)
    assert (await api.patch(f"/v1/warehouses/{closed['code']}", json={"active": False})).status_code == 200
    response = await api.post(
        "/v1/orders", json=order_body(shop["channel"], [(stocked_there["sku"], 1, "1.00")], external_ref="2")
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "out_of_stock"
    assert (await availability(api, shop["mug"]))[shop["big"]]["reserved"] == 0
    await assert_ledger_replays(database_url)
