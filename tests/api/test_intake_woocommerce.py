"""WooCommerce order intake through HTTP, on SQLite and PostgreSQL, with payloads in WooCommerce's own format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support import storefronts
from tests.support.factories import make_channel, make_sku, make_warehouse, receive, recorded_events
from tests.support.ledger import assert_ledger_replays
from tests.support.storefronts import WOOCOMMERCE_SECRET, load

ORDER_ID = "727"


@pytest.fixture
async def shop_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no API key: what WooCommerce is."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms.test") as client:
        yield client


@pytest.fixture
async def store(api: httpx.AsyncClient) -> dict[str, Any]:
    """A channel connected to WooCommerce, and the fixture order's SKUs in stock."""
    channel = await make_channel(api, integrations={"woocommerce": {"webhook_secret": WOOCOMMERCE_SECRET}})
    warehouse = await make_warehouse(api)
    for sku, quantity in (("WOO-SINGLE-1", 10), ("SHIP-IDEA-BLACK-M", 3)):
        await make_sku(api, sku=sku)
        await receive(api, sku, warehouse["code"], quantity)
    return {"channel": channel["code"], "warehouse": warehouse["code"]}


async def orders_of(api: httpx.AsyncClient, channel: str, ref: str = ORDER_ID) -> list[dict[str, Any]]:
    response = await api.get("/v1/orders", params={"channel": channel, "external_ref": ref})
    assert response.status_code == 200, response.text
    return [(await api.get(f"/v1/orders/{o['id']}")).json() for o in response.json()["data"]]


async def inbound(api: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/inbound-events", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def reserved(api: httpx.AsyncClient, sku: str) -> int:
    body = (await api.get(f"/v1/skus/{sku}/availability")).json()
    return sum(w["reserved"] for w in body["warehouses"])


async def test_the_unsigned_creation_ping_is_answered_200_and_not_stored(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    response = await storefronts.woocommerce_ping(shop_client, store["channel"])
    assert response.status_code == 200, response.text
    assert response.json() == {"id": None, "outcome": "ignored", "duplicate": False}
    assert await inbound(api) == []
    unconfigured = await make_channel(api)
    assert (await storefronts.woocommerce_ping(shop_client, unconfigured["code"])).status_code == 200
    assert (await storefronts.woocommerce_ping(shop_client, "no-such-channel")).status_code == 404


async def test_an_unsigned_body_that_is_not_the_ping_is_a_401(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    forged = await storefronts.woocommerce(
        shop_client, store["channel"], load("woocommerce/order_created.json"), signature=""
    )
    ping_lookalike = await storefronts.woocommerce(
        shop_client, store["channel"], b"webhook_id=12&status=cancelled", signature=""
    )
    for response in (forged, ping_lookalike):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "invalid_signature"
    assert await inbound(api) == []
    assert await orders_of(api, store["channel"]) == []


async def test_order_created_becomes_a_confirmed_order_with_the_storefront_amounts(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    response = await storefronts.woocommerce(shop_client, store["channel"], load("woocommerce/order_created.json"))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "pending"

    [order] = await orders_of(api, store["channel"])
    usd = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    assert order["status"] == "confirmed"
    assert order["totals"] == {
        "subtotal": usd("18.00"),
        "discount_total": usd("1.20"),
        "shipping_total": usd("10.00"),
        "shipping_tax": usd("0.00"),
        "tax_total": usd("1.26"),
        "grand_total": usd("28.06"),
        "tax_breakdown": [],
    }
    single, idea = order["lines"]
    assert (single["sku"], single["quantity"], single["unit_price"], single["tax"]) == (
        "WOO-SINGLE-1",
        2,
        usd("3.00"),
        usd("0.45"),
    )
    assert (idea["sku"], idea["unit_price"], idea["discount"], idea["tax"]) == (
        "SHIP-IDEA-BLACK-M",
        usd("12.00"),
        usd("1.20"),
        usd("0.81"),
    )
    assert {k: v for k, v in order["shipping_address"].items() if v is not None} == {
        "name": "John Doe",
        "line1": "969 Market",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94103",
        "country": "US",
    }
    assert order["billing_address"]["phone"] == "(555) 555-5555"
    assert set(order["tags"]) == {"woocommerce", "payment-paid"}
    assert "WooCommerce order 727" in order["notes"]
    assert "Ring twice" in order["notes"]
    assert "save10" in order["notes"]
    customer = (await api.get(f"/v1/customers/{order['customer_id']}")).json()
    assert (customer["email"], customer["external_refs"]) == ("john.doe@example.com", {"woocommerce": "26"})
    [event] = await inbound(api, source="woocommerce")
    assert (event["outcome"], event["order_id"], event["topic"]) == ("processed", order["id"], "order.created")
    assert await reserved(api, "WOO-SINGLE-1") == 2
    history = await recorded_events(database_url, order["id"])
    assert [(e["type"], e["actor"]) for e in history] == [
        ("order.created", "integration:woocommerce"),
        ("order.confirmed", "integration:woocommerce"),
    ]
    await assert_ledger_replays(database_url)


async def test_a_wrong_signature_is_a_401_and_stores_nothing(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    response = await storefronts.woocommerce(
        shop_client, store["channel"], load("woocommerce/order_created.json"), secret="not-the-secret"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    assert await inbound(api) == []
    assert await orders_of(api, store["channel"]) == []


async def test_a_repeated_delivery_id_is_a_200_duplicate_and_creates_no_second_order(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("woocommerce/order_created.json")
    first = await storefronts.woocommerce(shop_client, store["channel"], payload, delivery_id="9f3c2a")
    again = await storefronts.woocommerce(shop_client, store["channel"], payload, delivery_id="9f3c2a")
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "outcome": "processed", "duplicate": True}
    assert len(await orders_of(api, store["channel"])) == 1
    assert len(await inbound(api)) == 1
    assert await reserved(api, "WOO-SINGLE-1") == 2


async def test_order_updated_to_cancelled_cancels_the_order_and_releases_its_stock(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    await storefronts.woocommerce(shop_client, store["channel"], load("woocommerce/order_created.json"))
    response = await storefronts.woocommerce(
        shop_client, store["channel"], load("woocommerce/order_updated_cancelled.json"), topic="order.updated"
    )
    assert response.status_code == 200
    [order] = await orders_of(api, store["channel"])
    assert (order["status"], order["status_reason"]) == ("cancelled", "cancelled in WooCommerce")
    assert await reserved(api, "WOO-SINGLE-1") == await reserved(api, "SHIP-IDEA-BLACK-M") == 0
    assert [e["outcome"] for e in await inbound(api)] == ["processed", "processed"]
    await assert_ledger_replays(database_url)


async def test_other_updates_are_recorded_and_change_nothing(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    await storefronts.woocommerce(shop_client, store["channel"], load("woocommerce/order_created.json"))
    [before] = await orders_of(api, store["channel"])
    assert before["payment_status"] == "paid"  # paid in WooCommerce: recorded as captured externally
    completed = load("woocommerce/order_created.json")
    completed["status"] = "completed"
    await storefronts.woocommerce(shop_client, store["channel"], completed, topic="order.updated")
    _, update = await inbound(api)
    assert (update["outcome"], update["note"]) == ("ignored", "order.updated with status 'completed': nothing to do")
    [order] = await orders_of(api, store["channel"])
    assert (order["status"], order["version"]) == ("confirmed", before["version"])


async def test_a_line_without_sku_holds_the_order_with_the_reason(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    payload = load("woocommerce/order_created.json")
    payload["line_items"][0]["sku"] = ""
    await storefronts.woocommerce(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "on_hold"
    assert order["status_reason"] == "line 1 ('Woo Single #1') has no SKU"
    assert (order["lines"][0]["sku"], order["lines"][0]["sku_id"]) == ("", None)
    assert [e["type"] for e in await recorded_events(database_url, order["id"])] == ["order.created", "order.on_hold"]
    assert (await inbound(api))[0]["outcome"] == "held"


async def test_an_unknown_sku_holds_the_order_and_reserves_nothing(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("woocommerce/order_created.json")
    payload["line_items"][1]["sku"] = "Ship Your Idea (black, M)"
    await storefronts.woocommerce(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "on_hold"
    assert order["status_reason"] == "unknown SKU 'Ship Your Idea (black, M)' (line 2)"
    assert order["lines"][1]["sku"] == "Ship Your Idea (black, M)"
    assert await reserved(api, "WOO-SINGLE-1") == 0


async def test_an_order_out_of_stock_is_created_on_hold(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    payload = load("woocommerce/order_created.json")
    line = payload["line_items"][1]
    line.update(quantity=4, subtotal="48.00", total="43.20", total_tax="3.24")
    payload["total"] = "62.89"  # 6.00 + 43.20 + 10.00 + 0.45 + 3.24
    await storefronts.woocommerce(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    assert (order["status"], order["status_reason"]) == ("on_hold", "Not enough stock for: SHIP-IDEA-BLACK-M (3 of 4)")
    assert await reserved(api, "SHIP-IDEA-BLACK-M") == 0
    await assert_ledger_replays(database_url)


async def test_fee_lines_hold_the_order_since_an_order_here_has_no_fees(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("woocommerce/order_created.json")
    payload["fee_lines"] = [{"id": 320, "name": "Gift wrap", "tax_class": "", "total": "2.50", "total_tax": "0.00"}]
    payload["total"] = "30.56"
    await storefronts.woocommerce(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "on_hold"
    assert order["status_reason"].startswith("fee lines are not supported (Gift wrap 2.50 USD)")
    assert "differs" in order["status_reason"]


async def test_malformed_deliveries_are_400(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    no_id = load("woocommerce/order_created.json")
    no_id["id"] = 0
    for body, code in (
        (b"not json", "malformed_json"),
        (b'"a string"', "malformed_delivery"),
        (no_id, "malformed_delivery"),
    ):
        response = await storefronts.woocommerce(shop_client, store["channel"], body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == code
    assert await inbound(api) == []


async def test_reprocessing_a_processed_delivery_never_creates_a_second_order(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    await storefronts.woocommerce(shop_client, store["channel"], load("woocommerce/order_created.json"))
    [event] = await inbound(api)
    for _ in range(2):
        again = await api.post(f"/v1/inbound-events/{event['id']}/reprocess")
        assert again.status_code == 200, again.text
        assert (again.json()["outcome"], again.json()["order_id"]) == ("processed", event["order_id"])
        assert again.json()["note"] == "the order was already there (confirmed)"
    assert len(await orders_of(api, store["channel"])) == 1
    assert await reserved(api, "WOO-SINGLE-1") == 2


async def test_an_order_for_a_deactivated_channel_is_held_not_lost_and_can_still_be_cancelled(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    assert (await api.patch(f"/v1/channels/{store['channel']}", json={"active": False})).status_code == 200
    await storefronts.woocommerce(shop_client, store["channel"], load("woocommerce/order_created.json"))
    [order] = await orders_of(api, store["channel"])
    assert (order["status"], order["status_reason"]) == ("on_hold", f"channel {store['channel']!r} is not active")
    await storefronts.woocommerce(
        shop_client, store["channel"], load("woocommerce/order_updated_cancelled.json"), topic="order.updated"
    )
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "cancelled"
