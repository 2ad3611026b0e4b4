"""Shopify order intake through HTTP, on SQLite and PostgreSQL, with payloads in Shopify's own format.

Deliveries are sent without an API key (the platform signs them); the OMS side is read with an admin key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oms_api.integrations import tasks
from oms_api.kit.db import create_engine, session_factory
from oms_api.settings import Settings
from tests.support import storefronts
from tests.support.factories import make_channel, make_sku, make_warehouse, receive, recorded_events
from tests.support.ledger import assert_ledger_replays
from tests.support.storefronts import SHOPIFY_SECRET, load

ORDER_ID = "5801234567890"


@pytest.fixture
async def shop_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no API key: what Shopify is."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms.test") as client:
        yield client


@pytest.fixture
async def store(api: httpx.AsyncClient) -> dict[str, Any]:
    """A channel connected to Shopify, and the fixture order's SKUs in stock."""
    channel = await make_channel(api, integrations={"shopify": {"webhook_secret": SHOPIFY_SECRET}})
    warehouse = await make_warehouse(api)
    for sku, quantity in (("SHIRT-BLUE-M", 10), ("MUG-WHITE", 5)):
        await make_sku(api, sku=sku)
        await receive(api, sku, warehouse["code"], quantity)
    return {"channel": channel["code"], "channel_id": channel["id"], "warehouse": warehouse["code"]}


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


async def test_orders_create_becomes_a_confirmed_order_with_the_storefront_amounts(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    response = await storefronts.shopify(shop_client, store["channel"], load("shopify/orders_create.json"))
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["outcome"] == "pending"
    assert receipt["duplicate"] is False

    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "confirmed"
    assert order["currency"] == "USD"
    usd = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    assert order["totals"] == {
        "subtotal": usd("62.00"),
        "discount_total": usd("6.20"),
        "shipping_total": usd("10.00"),
        "shipping_tax": usd("0.80"),
        "tax_total": usd("5.26"),
        "grand_total": usd("71.06"),
        "tax_breakdown": [],
    }
    shirt, mug = order["lines"]
    assert (shirt["sku"], shirt["quantity"], shirt["unit_price"], shirt["discount"], shirt["tax"]) == (
        "SHIRT-BLUE-M",
        2,
        usd("25.00"),
        usd("5.00"),
        usd("3.60"),
    )
    assert (mug["sku"], mug["discount"], mug["tax"], mug["total"]) == (
        "MUG-WHITE",
        usd("1.20"),
        usd("0.86"),
        usd("11.66"),
    )
    assert shirt["allocations"][0]["quantity"] == 2
    assert mug["allocations"][0]["quantity"] == 1
    assert order["shipping_address"] == {
        "name": "Jane Smith",
        "company": "Shipping Company",
        "line1": "123 Shipping Street",
        "line2": "Apt 4",
        "city": "Shippington",
        "region": "KY",
        "postal_code": "40003",
        "country": "US",
        "phone": "555-555-0199",
        "latitude": 38.2527,
        "longitude": -85.7585,
    }
    assert order["billing_address"]["line1"] == "1 Billing Road"
    assert set(order["tags"]) == {"shopify", "payment-paid", "vip", "wholesale-order"}
    assert "Shopify order #1001" in order["notes"]
    assert "TENOFF" in order["notes"]
    assert "leave the parcel at the back door" in order["notes"]
    customer = (await api.get(f"/v1/customers/{order['customer_id']}")).json()
    assert customer["email"] == "jon@example.com"
    assert customer["external_refs"] == {"shopify": "7136001234"}

    [event] = await inbound(api)
    assert event["id"] == receipt["id"]
    assert (event["outcome"], event["order_id"], event["source"], event["topic"]) == (
        "processed",
        order["id"],
        "shopify",
        "orders/create",
    )
    history = await recorded_events(database_url, order["id"])
    assert [(e["type"], e["actor"]) for e in history] == [
        ("order.created", "integration:shopify"),
        ("order.confirmed", "integration:shopify"),
    ]
    assert await reserved(api, "SHIRT-BLUE-M") == 2
    await assert_ledger_replays(database_url)


async def test_a_wrong_or_missing_signature_is_a_401_and_stores_nothing(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("shopify/orders_create.json")
    wrong_secret = await storefronts.shopify(shop_client, store["channel"], payload, secret="shpss_someone_else")
    missing = await storefronts.shopify(shop_client, store["channel"], payload, signature="")
    tampered_body = storefronts.body_of(payload)
    tampered = await storefronts.shopify(
        shop_client,
        store["channel"],
        tampered_body.replace(b'"quantity": 2', b'"quantity": 9'),
        signature=storefronts.sign(SHOPIFY_SECRET, tampered_body),
    )
    for response in (wrong_secret, missing, tampered):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_signature"
    assert await inbound(api) == []
    assert await orders_of(api, store["channel"]) == []


async def test_an_api_key_does_not_stand_in_for_the_signature(api: httpx.AsyncClient, store: dict[str, Any]) -> None:
    response = await storefronts.shopify(api, store["channel"], load("shopify/orders_create.json"), signature="x")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"


async def test_a_channel_without_a_shopify_secret_refuses_deliveries(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient
) -> None:
    channel = await make_channel(api, integrations={"woocommerce": {"webhook_secret": "another-secret"}})
    response = await storefronts.shopify(shop_client, channel["code"], load("shopify/orders_create.json"))
    assert response.status_code == 401
    assert response.json()["code"] == "integration_not_configured"
    unknown = await storefronts.shopify(shop_client, "no-such-channel", load("shopify/orders_create.json"))
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "channel_not_found"


async def test_a_redelivery_is_a_200_duplicate_and_creates_no_second_order(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("shopify/orders_create.json")
    first = await storefronts.shopify(shop_client, store["channel"], payload, webhook_id="b54557e4-bdd9-4b37")
    again = await storefronts.shopify(shop_client, store["channel"], payload, webhook_id="b54557e4-bdd9-4b37")
    assert first.status_code == again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "outcome": "processed", "duplicate": True}
    assert len(await orders_of(api, store["channel"])) == 1
    assert len(await inbound(api)) == 1
    assert await reserved(api, "SHIRT-BLUE-M") == 2


async def test_the_same_order_in_another_delivery_finds_the_order_instead_of_making_a_second(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("shopify/orders_create.json")
    await storefronts.shopify(shop_client, store["channel"], payload)
    await storefronts.shopify(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    first, second = await inbound(api)
    assert first["order_id"] == second["order_id"] == order["id"]
    assert second["outcome"] == "processed"
    assert "already there" in second["note"]
    assert await reserved(api, "SHIRT-BLUE-M") == 2


async def test_an_unknown_sku_creates_the_order_on_hold_with_the_reason_and_an_on_hold_event(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    payload = load("shopify/orders_create.json")
    payload["line_items"][1]["sku"] = "MUG-RED"
    response = await storefronts.shopify(shop_client, store["channel"], payload)
    assert response.status_code == 200

    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "on_hold"
    assert order["status_reason"] == "unknown SKU 'MUG-RED' (line 2)"
    shirt, mug = order["lines"]
    assert shirt["sku_id"] is not None
    assert (mug["sku"], mug["sku_id"], mug["name"], mug["quantity"]) == ("MUG-RED", None, "White mug", 1)
    assert order["totals"]["grand_total"] == {"amount": "71.06", "currency": "USD"}, "nothing the customer paid is lost"
    assert await reserved(api, "SHIRT-BLUE-M") == 0, "a held order reserves nothing"
    history = await recorded_events(database_url, order["id"])
    assert [e["type"] for e in history] == ["order.created", "order.on_hold"]
    assert history[1]["data"]["status"] == "on_hold"
    assert history[1]["data"]["status_reason"] == "unknown SKU 'MUG-RED' (line 2)"
    events = (await api.get(f"/v1/orders/{order['id']}/events")).json()["data"]
    assert events[1]["reason"] == "unknown SKU 'MUG-RED' (line 2)"
    [event] = await inbound(api)
    assert (event["outcome"], event["order_id"], event["note"]) == ("held", order["id"], order["status_reason"])
    await assert_ledger_replays(database_url)


async def test_a_line_without_sku_holds_the_order_and_keeps_the_line(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("shopify/orders_create.json")
    payload["line_items"][1]["sku"] = None
    await storefronts.shopify(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "on_hold"
    assert order["status_reason"] == "line 2 ('White mug') has no SKU"
    assert (order["lines"][1]["sku"], order["lines"][1]["sku_id"]) == ("", None)


async def test_an_order_out_of_stock_is_created_on_hold_and_reserves_nothing(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    payload = load("shopify/orders_create.json")
    payload["line_items"][1]["quantity"] = 6
    payload["line_items"][1]["discount_allocations"] = []
    payload["line_items"][1]["tax_lines"] = []
    payload["total_price"] = "131.40"  # 50 + 72 - 5 + 10 + 3.60 + 0.80 tax
    await storefronts.shopify(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "on_hold"
    assert order["status_reason"] == "Not enough stock for: MUG-WHITE (5 of 6)"
    assert all(line["allocations"] == [] for line in order["lines"])
    assert await reserved(api, "SHIRT-BLUE-M") == await reserved(api, "MUG-WHITE") == 0
    [event] = await inbound(api)
    assert event["outcome"] == "held"
    await assert_ledger_replays(database_url)


async def test_reprocessing_a_held_order_confirms_it_once_it_can_be_served(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    payload = load("shopify/orders_create.json")
    payload["line_items"][1]["sku"] = "MUG-RED"
    await storefronts.shopify(shop_client, store["channel"], payload)
    [event] = await inbound(api)
    still = await api.post(f"/v1/inbound-events/{event['id']}/reprocess")
    assert still.status_code == 200, still.text
    assert still.json()["outcome"] == "held"

    await make_sku(api, sku="MUG-RED", name="Red mug")
    await receive(api, "MUG-RED", store["warehouse"], 3)
    done = await api.post(f"/v1/inbound-events/{event['id']}/reprocess", headers={"Idempotency-Key": "again"})
    assert done.status_code == 200, done.text
    assert (done.json()["outcome"], done.json()["order_id"], done.json()["attempts"]) == (
        "processed",
        event["order_id"],
        3,
    )

    [order] = await orders_of(api, store["channel"])
    assert order["id"] == event["order_id"]
    assert (order["status"], order["status_reason"]) == ("confirmed", None)
    assert order["lines"][1]["sku_id"] is not None
    assert order["lines"][1]["name"] == "Red mug"
    assert await reserved(api, "MUG-RED") == 1
    assert await reserved(api, "SHIRT-BLUE-M") == 2
    history = await recorded_events(database_url, order["id"])
    assert [e["type"] for e in history] == ["order.created", "order.on_hold", "order.confirmed"]
    assert history[2]["data"]["previous_status"] == "on_hold"

    repeated = await api.post(f"/v1/inbound-events/{event['id']}/reprocess")
    assert repeated.json()["outcome"] == "processed"
    assert len(await orders_of(api, store["channel"])) == 1
    assert await reserved(api, "MUG-RED") == 1
    await assert_ledger_replays(database_url)


async def test_orders_cancelled_cancels_the_order_and_gives_its_stock_back(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any], database_url: str
) -> None:
    await storefronts.shopify(shop_client, store["channel"], load("shopify/orders_create.json"))
    response = await storefronts.shopify(
        shop_client, store["channel"], load("shopify/orders_cancelled.json"), topic="orders/cancelled"
    )
    assert response.status_code == 200
    [order] = await orders_of(api, store["channel"])
    assert (order["status"], order["status_reason"]) == ("cancelled", "cancelled in Shopify (customer)")
    assert await reserved(api, "SHIRT-BLUE-M") == 0
    _, cancelled = await inbound(api)
    assert (cancelled["outcome"], cancelled["order_id"]) == ("processed", order["id"])
    again = await storefronts.shopify(
        shop_client, store["channel"], load("shopify/orders_cancelled.json"), topic="orders/cancelled"
    )
    assert again.status_code == 200
    assert (await inbound(api))[-1]["note"] == "the order was already cancelled"
    await assert_ledger_replays(database_url)


async def test_a_cancellation_that_arrives_before_its_order_waits_for_it(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    await storefronts.shopify(
        shop_client, store["channel"], load("shopify/orders_cancelled.json"), topic="orders/cancelled"
    )
    [waiting] = await inbound(api)
    assert waiting["outcome"] == "pending"
    assert waiting["next_attempt_at"] is not None
    assert waiting["error"] == f"no order '{ORDER_ID}' in channel '{store['channel']}' yet"

    await storefronts.shopify(shop_client, store["channel"], load("shopify/orders_create.json"))
    done = await api.post(f"/v1/inbound-events/{waiting['id']}/reprocess")
    assert done.json()["outcome"] == "processed"
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "cancelled"


async def test_a_delivery_left_pending_is_applied_by_the_worker_job(
    api: httpx.AsyncClient,
    shop_client: httpx.AsyncClient,
    store: dict[str, Any],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def crashed(*_: Any) -> None:  # the process died right after answering
        return None

    monkeypatch.setattr(tasks, "process_stored", crashed)
    response = await storefronts.shopify(shop_client, store["channel"], load("shopify/orders_create.json"))
    assert response.json()["outcome"] == "pending"
    assert await orders_of(api, store["channel"]) == []

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            assert await tasks.process_pending(session, settings) == 1
            await session.commit()
        async with session_factory(engine)() as session:
            assert await tasks.process_pending(session, settings) == 0
    finally:
        await engine.dispose()
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "confirmed"
    assert (await inbound(api))[0]["outcome"] == "processed"


async def test_malformed_deliveries_are_400_and_stored_nowhere(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    channel = store["channel"]
    no_id = load("shopify/orders_create.json")
    del no_id["id"]
    cases = [
        (await storefronts.shopify(shop_client, channel, b'{"id": 1, "line_items": ['), "malformed_json"),
        (await storefronts.shopify(shop_client, channel, b"\xff\xfe not utf-8"), "malformed_json"),
        (await storefronts.shopify(shop_client, channel, b"[1, 2]"), "malformed_delivery"),
        (await storefronts.shopify(shop_client, channel, b"[" * 100_000), "malformed_json"),
        (await storefronts.shopify(shop_client, channel, no_id), "malformed_delivery"),
        (
            await storefronts.shopify(
                shop_client, channel, load("shopify/orders_create.json"), extra={"X-Shopify-Topic": ""}
            ),
            "missing_header",
        ),
    ]
    for response, code in cases:
        assert response.status_code == 400, response.text
        assert response.json()["code"] == code, response.text
    too_big = await storefronts.shopify(shop_client, channel, b'{"id": 1, "pad": "' + b"x" * 2_100_000 + b'"}')
    assert too_big.status_code == 413
    assert await inbound(api) == []


async def test_an_order_that_cannot_be_mapped_is_kept_as_a_failed_inbound_event(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("shopify/orders_create.json")
    payload["currency"] = "DOUBLOONS"
    response = await storefronts.shopify(shop_client, store["channel"], payload)
    assert response.status_code == 200
    [failed] = await inbound(api, outcome="failed")
    assert failed["error"] == "currency 'DOUBLOONS' is not an ISO 4217 code"
    assert failed["order_id"] is None
    full = (await api.get(f"/v1/inbound-events/{failed['id']}")).json()
    assert full["body"] == storefronts.body_of(payload).decode()
    assert full["headers"]["x-shopify-topic"] == "orders/create"
    assert await orders_of(api, store["channel"]) == []


async def test_stored_headers_never_keep_credentials(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    await storefronts.shopify(
        shop_client,
        store["channel"],
        load("shopify/orders_create.json"),
        extra={"Authorization": "Bearer oms_secret", "Cookie": "session=1", "X-Api-Key": "k"},
    )
    [event] = await inbound(api)
    headers = (await api.get(f"/v1/inbound-events/{event['id']}")).json()["headers"]
    assert {"authorization", "cookie", "x-api-key"}.isdisjoint(headers)
    assert headers["x-shopify-shop-domain"] == "example-shop.myshopify.com"


async def test_topics_intake_does_not_act_on_are_stored_and_ignored(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    response = await storefronts.shopify(
        shop_client, store["channel"], load("shopify/orders_create.json"), topic="orders/updated"
    )
    assert response.status_code == 200
    [event] = await inbound(api)
    assert (event["outcome"], event["note"]) == ("ignored", "topic 'orders/updated' is not one intake handles")


async def test_a_missing_shipping_address_holds_the_order_with_the_billing_address(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("shopify/orders_create.json")
    payload["shipping_address"] = None
    await storefronts.shopify(shop_client, store["channel"], payload)
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "on_hold"
    assert order["status_reason"] == "no usable shipping address (no address); the billing address stands in"
    assert order["shipping_address"]["line1"] == "1 Billing Road"


async def test_inbound_events_are_listed_by_source_outcome_and_channel_a_page_at_a_time(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    held = load("shopify/orders_create.json")
    held["id"] = 2
    held["line_items"][0]["sku"] = "NOPE"
    await storefronts.shopify(shop_client, store["channel"], load("shopify/orders_create.json"))
    await storefronts.shopify(shop_client, store["channel"], held)
    other = await make_channel(api, integrations={"shopify": {"webhook_secret": SHOPIFY_SECRET}})
    await storefronts.shopify(shop_client, other["code"], load("shopify/orders_create.json"))

    assert len(await inbound(api)) == 3
    assert [e["outcome"] for e in await inbound(api, channel=store["channel"])] == ["processed", "held"]
    assert len(await inbound(api, outcome="held")) == 1
    assert len(await inbound(api, source="shopify", channel=other["id"])) == 1
    assert await inbound(api, source="woocommerce") == []
    assert await inbound(api, channel="no-such-channel") == []
    first = await api.get("/v1/inbound-events", params={"limit": 2})
    assert first.json()["has_more"] is True
    assert "body" not in first.json()["data"][0]
    rest = await api.get("/v1/inbound-events", params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert len(rest.json()["data"]) == 1
    assert rest.json()["has_more"] is False
    missing = await api.get("/v1/inbound-events/0192f0c1-0000-7000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["code"] == "inbound_event_not_found"
    reprocess_missing = await api.post("/v1/inbound-events/0192f0c1-0000-7000-8000-000000000000/reprocess")
    assert reprocess_missing.status_code == 404


async def test_reading_inbound_events_needs_orders_read_and_reprocessing_orders_write(
    client: httpx.AsyncClient, make_key: Any
) -> None:
    reader = {"Authorization": f"Bearer {await make_key('orders:read')}"}
    assert (await client.get("/v1/inbound-events", headers=reader)).status_code == 200
    refused = await client.post("/v1/inbound-events/0192f0c1-0000-7000-8000-000000000000/reprocess", headers=reader)
    assert refused.status_code == 403
    assert (await client.get("/v1/inbound-events")).status_code == 401


async def test_channel_webhook_secrets_are_write_only(api: httpx.AsyncClient, database_url: str) -> None:
    created = await api.post(
        "/v1/channels",
        json={
            "code": "shop-us",
            "name": "US shop",
            "type": "web",
            "default_currency": "USD",
            "integrations": {"shopify": {"webhook_secret": SHOPIFY_SECRET}},
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["configured_integrations"] == ["shopify"]
    assert SHOPIFY_SECRET not in created.text
    updated = await api.patch(
        "/v1/channels/shop-us",
        json={"integrations": {"woocommerce": {"webhook_secret": "wc-secret-1"}, "shopify": None}},
    )
    assert updated.json()["configured_integrations"] == ["woocommerce"]
    assert updated.json()["version"] == 2
    listed = await api.get("/v1/channels")
    fetched = await api.get("/v1/channels/shop-us")
    for response in (updated, listed, fetched):
        assert "wc-secret-1" not in response.text
        assert "webhook_secret" not in response.text
    events = await recorded_events(database_url, created.json()["id"])
    assert "wc-secret-1" not in str(events)
    assert SHOPIFY_SECRET not in str(events)
    assert events[-1]["data"]["configured_integrations"] == ["woocommerce"]
    too_short = await api.patch("/v1/channels/shop-us", json={"integrations": {"shopify": {"webhook_secret": "x"}}})
    assert too_short.status_code == 422
    unknown = await api.patch("/v1/channels/shop-us", json={"integrations": {"magento": {"webhook_secret": "x" * 9}}})
    assert unknown.status_code == 422


async def test_text_no_database_can_store_is_cleaned_instead_of_failing_the_order(
    api: httpx.AsyncClient, shop_client: httpx.AsyncClient, store: dict[str, Any]
) -> None:
    payload = load("shopify/orders_create.json")
    payload["note"] = "ring\u0000 twice \ud800"
    payload["shipping_address"]["name"] = "Jane\u0000 Smith\ud83d"
    payload["line_items"][0]["name"] = "Blue\tshirt\ud800"
    response = await storefronts.shopify(shop_client, store["channel"], payload)
    assert response.status_code == 200
    [order] = await orders_of(api, store["channel"])
    assert order["status"] == "confirmed"
    assert order["shipping_address"]["name"] == "Jane Smith?"
    assert "ring twice ?" in order["notes"]
