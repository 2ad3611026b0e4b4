"""A cursor is bound to the list and the filters it came from, on SQLite and PostgreSQL: used on another list, on
another resource's list or with other filters it is a 400 ``invalid_cursor`` problem, never a page of something
else; with the same query (and any page size) it goes on where the last page stopped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oms_api.kit.errors import PROBLEM_MEDIA_TYPE
from tests.support.factories import make_channel, make_customer, make_sku, make_warehouse, receive


def assert_invalid_cursor(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert (problem["code"], problem["type"]) == ("invalid_cursor", "https://oms-api.dev/problems/invalid_cursor")


async def first_cursor(api: httpx.AsyncClient, path: str, **params: Any) -> str:
    page = await api.get(path, params={"limit": 1, **params})
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    assert cursor, page.json()
    return str(cursor)


@pytest.fixture
async def skus_and_channels(api: httpx.AsyncClient) -> list[str]:
    skus = [(await make_sku(api))["sku"] for _ in range(3)]
    await api.patch(f"/v1/skus/{skus[1]}", json={"active": False})
    for _ in range(3):
        await make_channel(api)
    return skus


async def test_a_cursor_from_another_list_is_a_400(api: httpx.AsyncClient, skus_and_channels: list[str]) -> None:
    sku_cursor = await first_cursor(api, "/v1/skus")
    channel_cursor = await first_cursor(api, "/v1/channels")
    assert_invalid_cursor(await api.get("/v1/channels", params={"cursor": sku_cursor}))
    assert_invalid_cursor(await api.get("/v1/skus", params={"cursor": channel_cursor}))
    assert_invalid_cursor(await api.get("/v1/customers", params={"cursor": sku_cursor}))


async def test_a_cursor_with_other_filters_is_a_400(api: httpx.AsyncClient, skus_and_channels: list[str]) -> None:
    active = await first_cursor(api, "/v1/skus", active="true")
    assert_invalid_cursor(await api.get("/v1/skus", params={"active": "false", "cursor": active}))
    assert_invalid_cursor(await api.get("/v1/skus", params={"cursor": active}))  # a filter left out
    unfiltered = await first_cursor(api, "/v1/skus")
    assert_invalid_cursor(await api.get("/v1/skus", params={"active": "true", "cursor": unfiltered}))
    web = await first_cursor(api, "/v1/channels", type="web")
    assert_invalid_cursor(await api.get("/v1/channels", params={"type": "marketplace", "cursor": web}))


async def test_a_cursor_with_its_own_query_goes_on_at_any_page_size(
    api: httpx.AsyncClient, skus_and_channels: list[str]
) -> None:
    first = await api.get("/v1/skus", params={"active": "true", "limit": 1})
    rest = await api.get("/v1/skus", params={"limit": 50, "active": "true", "cursor": first.json()["next_cursor"]})
    assert rest.status_code == 200, rest.text
    codes = [s["sku"] for s in first.json()["data"] + rest.json()["data"]]
    assert codes == [skus_and_channels[0], skus_and_channels[2]]
    followed = await api.get(first.links["next"]["url"])  # the Link header keeps the filters
    assert followed.status_code == 200, followed.text
    assert [s["sku"] for s in followed.json()["data"]] == [skus_and_channels[2]]


async def test_a_cursor_of_one_customers_orders_is_refused_for_another(api: httpx.AsyncClient) -> None:
    channel = await make_channel(api)
    warehouse = await make_warehouse(api)
    sku = await make_sku(api)
    await receive(api, sku["sku"], warehouse["code"], 10)
    ada, bob = await make_customer(api), await make_customer(api)
    for n, customer in enumerate([ada, ada, bob, bob]):
        body = {
            "channel": channel["code"],
            "external_ref": f"C-{n}",
            "currency": "EUR",
            "customer": {"id": customer["id"]},
            "shipping_address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"},
            "lines": [{"sku": sku["sku"], "quantity": 1, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
        }
        assert (await api.post("/v1/orders", json=body)).status_code == 201
    cursor = await first_cursor(api, f"/v1/customers/{ada['id']}/orders")
    assert_invalid_cursor(await api.get(f"/v1/customers/{bob['id']}/orders", params={"cursor": cursor}))
    assert_invalid_cursor(await api.get("/v1/orders", params={"cursor": cursor}))
    own = await api.get(f"/v1/customers/{ada['id']}/orders", params={"cursor": cursor})
    assert [o["external_ref"] for o in own.json()["data"]] == ["C-1"]
    confirmed = await first_cursor(api, "/v1/orders", status="confirmed", channel=channel["code"])
    assert_invalid_cursor(await api.get("/v1/orders", params={"status": "cancelled", "cursor": confirmed}))
    assert_invalid_cursor(
        await api.get("/v1/orders", params={"status": "confirmed", "channel": "other", "cursor": confirmed})
    )
