"""Filtered lists walked page by page: each row once, in id order, whatever index the filters lead to.

A filtered page is read as a range of the index of its filters (``kit.keyset``: ``a = x AND b >= y AND b <= y
AND id > after ORDER BY b, id``); these tests pin that the rows and their order are those of the plain
``a = x AND b = y ORDER BY id``, across pages, on both databases. Which index PostgreSQL then uses is pinned by
``tests/integration/test_list_plans.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.factories import make_channel, make_sku, make_warehouse, receive


async def _walk(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a list, two at a time, following ``next_cursor``."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = await api.get(path, params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["data"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            return rows


def _in_id_order(rows: list[dict[str, Any]]) -> list[str]:
    return sorted((row["id"] for row in rows), key=uuid.UUID)


async def test_orders_by_channel_and_status_page_in_id_order(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    sku = (await make_sku(api))["sku"]
    await receive(api, sku, warehouse["code"], 100)
    channels = [await make_channel(api) for _ in range(2)]
    for n in range(9):
        body = {
            "channel": channels[n % 2]["code"],
            "external_ref": f"P-{n}",
            "currency": "EUR",
            "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            "lines": [{"sku": sku, "quantity": 1, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
        }
        placed = await api.post("/v1/orders", json=body)
        assert placed.status_code == 201, placed.text
        if n % 3 == 0:
            held = await api.post(f"/v1/orders/{placed.json()['id']}/hold", json={"reason": "fraud review"})
            assert held.status_code == 200, held.text
    everything = await _walk(api, "/v1/orders")
    for channel in channels:
        mine = [o for o in everything if o["channel_id"] == channel["id"]]
        for status in ("confirmed", "on_hold"):
            expected = [o for o in mine if o["status"] == status]
            walked = await _walk(api, "/v1/orders", channel=channel["code"], status=status)
            assert [o["id"] for o in walked] == _in_id_order(expected)
            assert expected
        by_channel = await _walk(api, "/v1/orders", channel=channel["code"])
        assert [o["id"] for o in by_channel] == _in_id_order(mine)
    held = await _walk(api, "/v1/orders", status="on_hold")
    assert [o["id"] for o in held] == _in_id_order([o for o in everything if o["status"] == "on_hold"])


async def test_the_ledger_of_a_sku_and_of_a_level_page_in_id_order(api: httpx.AsyncClient) -> None:
    warehouses = [(await make_warehouse(api))["code"] for _ in range(2)]
    skus = [(await make_sku(api))["sku"] for _ in range(2)]
    for n in range(7):
        await receive(api, skus[n % 2], warehouses[n % 3 % 2], n + 1)
    everything = await _walk(api, "/v1/stock-movements")
    for sku in skus:
        walked = await _walk(api, "/v1/stock-movements", sku=sku)
        assert [m["id"] for m in walked] == _in_id_order([m for m in everything if m["sku"] == sku])
        for warehouse in warehouses:
            level = await _walk(api, "/v1/stock-movements", sku=sku, warehouse=warehouse)
            mine = [m for m in everything if m["sku"] == sku and m["warehouse"] == warehouse]
            assert [m["id"] for m in level] == _in_id_order(mine)
    assert await _walk(api, "/v1/stock-movements", sku="NO-SUCH-SKU") == []
    assert await _walk(api, "/v1/stock-movements", warehouse="NO-SUCH-WAREHOUSE") == []
