"""/v1/carriers, shipment rates and delivery promises through HTTP, on SQLite and PostgreSQL.

Dates are computed from a fixed ``ready_at`` / ``order_at``: Monday 23 November 2026, Berlin time.
The factory carrier has ``standard`` (cut-off 16:00, 2 business days, 4.90 up to 2 kg in DE) and ``express``
(cut-off 12:00, next business day, 12.90 up to 2 kg, DE only).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.factories import (
    make_carrier,
    make_channel,
    make_sku,
    make_warehouse,
    place_order,
    rate_rows,
    receive,
    recorded_events,
)

MONDAY_10 = "2026-11-23T10:00:00+01:00"
MONDAY_13 = "2026-11-23T13:00:00+01:00"
MONDAY_17 = "2026-11-23T17:00:00+01:00"
FRIDAY_17 = "2026-11-27T17:00:00+01:00"


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    channel = await make_channel(api)
    big = await make_warehouse(api, priority=10)
    small = await make_warehouse(api, priority=1, latitude=48.14, longitude=11.58)
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


async def a_shipment(api: httpx.AsyncClient, shop: dict[str, Any], quantity: int = 3, **extra: Any) -> dict[str, Any]:
    order = await place_order(api, shop["channel"], [(shop["mug"], quantity)], **extra)
    created = (await api.post(f"/v1/orders/{order['id']}/shipments")).json()
    shipment: dict[str, Any] = created["data"][0]
    return shipment


def options_of(body: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    return [
        (o["service"], o["price"]["amount"], o["ship_date"], o["delivery_date"], o["recommended"])
        for o in body["options"]
    ]


# --- carriers ------------------------------------------------------------------------------------------------


async def test_a_carrier_is_created_with_its_services_and_rate_tables(api: httpx.AsyncClient) -> None:
    carrier = await make_carrier(api, code="parcelco", name="Parcel Co")
    assert carrier["kind"] == "table_rate"
    assert [s["code"] for s in carrier["services"]] == ["standard", "express"]
    standard = carrier["services"][0]
    assert standard["cutoff_time"] == "16:00:00"
    assert standard["pickup_days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert standard["zones"][0]["rates"] == [
        {"currency": "EUR", "max_weight_g": 2000, "base": eur("4.90"), "per_kg": eur("0.00")},
        {"currency": "EUR", "max_weight_g": 31500, "base": eur("6.90"), "per_kg": eur("0.50")},
    ]
    fetched = await api.get("/v1/carriers/parcelco")
    assert fetched.json() == carrier
    assert fetched.headers["etag"] == '"1"'
    listed = (await api.get("/v1/carriers")).json()["data"]
    assert [c["code"] for c in listed] == ["parcelco"]
    duplicate = await api.post("/v1/carriers", json={"code": "parcelco", "name": "Again"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate_carrier")


async def test_bad_rate_tables_are_refused_with_pointers(api: httpx.AsyncClient) -> None:
    service = {
        "code": "std",
        "name": "Std",
        "transit_days": 2,
        "cutoff_time": "16:00",
        "timezone": "Mars/Olympus",
        "zones": [{"code": "de", "countries": ["DE"], "rates": rate_rows("4.90")}],
    }
    response = await api.post("/v1/carriers", json={"code": "bad", "name": "Bad", "services": [service]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/body/services/0/timezone"

    service["timezone"] = "Europe/Berlin"
    service["zones"] = [
        {"code": "de", "countries": ["DE"], "rates": rate_rows("4.90")},
        {"code": "de2", "countries": ["DE", "AT"], "rates": rate_rows("5.90")},
    ]
    response = await api.post("/v1/carriers", json={"code": "bad", "name": "Bad", "services": [service]})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "pointer": "/body/services/0/zones/1",
        "detail": "DE is already in another zone",
        "code": "invalid_rate_table",
    }
    service["zones"] = [{"code": "de", "countries": ["XX"], "rates": rate_rows("4.90")}]
    assert (await api.post("/v1/carriers", json={"code": "b", "name": "B", "services": [service]})).status_code == 422
    mixed = {"max_weight_g": 100, "base": eur("1.00"), "per_kg": {"amount": "1.00", "currency": "USD"}}
    service["zones"] = [{"code": "de", "countries": ["DE"], "rates": [mixed]}]
    assert (await api.post("/v1/carriers", json={"code": "b", "name": "B", "services": [service]})).status_code == 422


async def test_a_service_is_added_and_its_table_replaced_with_if_match(api: httpx.AsyncClient) -> None:
    carrier = await make_carrier(api)
    url = f"/v1/carriers/{carrier['code']}/services"
    body = {
        "code": "economy",
        "name": "Economy",
        "transit_days": 4,
        "cutoff_time": "10:00",
        "timezone": "Europe/Berlin",
        "pickup_days": ["tue", "thu"],
        "zones": [{"code": "de", "countries": ["DE"], "rates": rate_rows("3.50")}],
    }
    created = await api.post(url, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["pickup_days"] == ["tue", "thu"]
    assert (await api.post(url, json=body)).status_code == 409
    new_zones = {"zones": [{"code": "de", "countries": ["DE"], "postal_prefixes": ["1"], "rates": rate_rows("2.90")}]}
    stale = await api.patch(f"{url}/economy", json=new_zones, headers={"If-Match": '"7"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")
    changed = await api.patch(f"{url}/economy", json=new_zones, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["zones"][0]["postal_prefixes"] == ["1"]
    assert changed.json()["zones"][0]["rates"][0]["base"] == eur("2.90")
    assert (await api.get(f"{url}/economy")).json() == changed.json()
    missing = await api.get(f"{url}/nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "carrier_service_not_found")
    nulled = await api.patch(f"{url}/economy", json={"name": None})
    assert nulled.status_code == 422


async def test_the_rate_calculator_prices_parcels_with_every_service(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    body = {
        "from_warehouse": shop["big"],
        "destination": {"country": "DE", "postal_code": "10115"},
        "parcels": [1500, 2500],
        "currency": "EUR",
        "ready_at": MONDAY_10,
    }
    response = await api.post("/v1/rate-quotes", json=body)
    assert response.status_code == 200, response.text
    assert options_of(response.json()) == [
        ("express", "28.80", "2026-11-23", "2026-11-24", False),  # 12.90 + (14.90 + 1 kg x 1.00)
        ("standard", "12.30", "2026-11-23", "2026-11-25", True),  # 4.90 + (6.90 + 1 kg x 0.50)
    ]
    abroad = await api.post("/v1/rate-quotes", json={**body, "destination": {"country": "FR"}, "ready_at": FRIDAY_17})
    assert options_of(abroad.json()) == [("standard", "22.80", "2026-11-30", "2026-12-04", True)]
    nowhere = await api.post("/v1/rate-quotes", json={**body, "destination": {"country": "US"}})
    assert nowhere.json()["options"] == []


async def test_an_inactive_carrier_offers_no_rates(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    off = await api.patch(f"/v1/carriers/{shop['carrier']}", json={"active": False})
    assert off.json()["active"] is False
    body = {"destination": {"country": "DE"}, "parcels": [100], "currency": "EUR"}
    assert (await api.post("/v1/rate-quotes", json=body)).json()["options"] == []


# --- shipment rates ------------------------------------------------------------------------------------------


async def test_shipment_rates_list_every_option_and_flag_the_policy_pick(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    shipment = await a_shipment(api, shop)
    url = f"/v1/shipments/{shipment['id']}/rates"
    cheapest = (await api.post(url, json={"ready_at": MONDAY_10})).json()
    assert (cheapest["weight_g"], cheapest["parcels"], cheapest["choice"]) == (1200, [1200], "cheapest")
    assert options_of(cheapest) == [
        ("express", "12.90", "2026-11-23", "2026-11-24", False),
        ("standard", "4.90", "2026-11-23", "2026-11-25", True),
    ]
    fastest = (await api.post(url, json={"ready_at": MONDAY_10, "choice": "fastest"})).json()
    assert [o["recommended"] for o in fastest["options"]] == [True, False]
    on_time = {"ready_at": MONDAY_10, "choice": "cheapest_on_time", "deliver_by": "2026-11-24"}
    assert [o["on_time"] for o in (await api.post(url, json=on_time)).json()["options"]] == [True, False]
    assert [o["recommended"] for o in (await api.post(url, json=on_time)).json()["options"]] == [True, False]
    late = (await api.post(url, json={"ready_at": MONDAY_13})).json()  # express missed its 12:00 cut-off
    assert options_of(late) == [  # same delivery day: the cheaper first
        ("standard", "4.90", "2026-11-23", "2026-11-25", True),
        ("express", "12.90", "2026-11-24", "2026-11-25", False),
    ]
    weekend = (await api.post(url, json={"ready_at": FRIDAY_17})).json()
    assert [(o["ship_date"], o["delivery_date"]) for o in weekend["options"]] == [
        ("2026-11-30", "2026-12-01"),
        ("2026-11-30", "2026-12-02"),
    ]


async def test_selecting_a_rate_stores_carrier_price_and_dates(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    shipment = await a_shipment(api, shop)
    url = f"/v1/shipments/{shipment['id']}/select-rate"
    chosen = await api.post(url, json={"ready_at": MONDAY_10, "choice": "fastest"})
    assert chosen.status_code == 200, chosen.text
    body = chosen.json()
    assert (body["carrier"], body["service"], body["shipping_choice"]) == (shop["carrier"], "express", "fastest")
    assert body["shipping_price"] == eur("12.90")
    assert (body["promised_ship_date"], body["promised_delivery_date"]) == ("2026-11-23", "2026-11-24")
    assert body["estimated_delivery_date"] == "2026-11-24"
    by_name = await api.post(url, json={"ready_at": MONDAY_10, "carrier": shop["carrier"], "service": "standard"})
    assert (by_name.json()["service"], by_name.json()["shipping_choice"]) == ("standard", "manual")
    assert by_name.json()["shipping_price"] == eur("4.90")
    assert by_name.json()["promised_delivery_date"] == "2026-11-24"  # the promise made stays
    unknown = await api.post(url, json={"carrier": "nope"})
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (422, "rate_unavailable")
    types = [e["type"] for e in await recorded_events(database_url, shipment["id"])]
    assert types == ["shipment.created", "shipment.updated", "shipment.updated"]

    for action in ("start-picking", "pack"):
        await api.post(f"/v1/shipments/{shipment['id']}/{action}")
    shipped = await api.post(f"/v1/shipments/{shipment['id']}/ship", json={})
    assert shipped.status_code == 200, shipped.text
    assert (shipped.json()["carrier"], shipped.json()["service"]) == (shop["carrier"], "standard")
    assert shipped.json()["shipping_price"] == eur("4.90")
    too_late = await api.post(url, json={"choice": "cheapest"})
    assert (too_late.status_code, too_late.json()["code"]) == (409, "shipment_dispatched")


async def test_without_a_serving_carrier_there_is_nothing_to_select(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    far = {"line1": "1 Main St", "city": "New York", "postal_code": "10001", "country": "US"}
    shipment = await a_shipment(api, shop, shipping_address=far)
    assert (await api.post(f"/v1/shipments/{shipment['id']}/rates", json={})).json()["options"] == []
    refused = await api.post(f"/v1/shipments/{shipment['id']}/select-rate", json={})
    assert (refused.status_code, refused.json()["code"]) == (409, "no_rates")


async def test_a_packed_shipment_is_rated_by_its_packages(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    shipment = await a_shipment(api, shop, quantity=8)  # 3.2 kg of mugs
    rated = (await api.post(f"/v1/shipments/{shipment['id']}/rates", json={"ready_at": MONDAY_10})).json()
    standard = next(o for o in rated["options"] if o["service"] == "standard")
    assert (rated["parcels"], standard["price"]) == ([3200], eur("7.90"))  # 6.90 + 2 started kg x 0.50


# --- delivery promises ---------------------------------------------------------------------------------------


def promise_body(shop: dict[str, Any], lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    return {
        "channel": shop["channel"],
        "destination": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
        "order_at": MONDAY_10,
        **extra,
    }


async def test_a_promise_names_the_warehouses_and_prices_every_service(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    response = await api.post("/v1/delivery-promises", json=promise_body(shop, [(shop["mug"], 2), (shop["tee"], 1)]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["available"] is True
    assert {(s["warehouse"], s["weight_g"]) for s in body["shipments"]} == {(shop["big"], 800), (shop["small"], 200)}
    assert options_of(body) == [
        ("express", "25.80", "2026-11-23", "2026-11-24", False),
        ("standard", "9.80", "2026-11-23", "2026-11-25", True),
    ]
    assert len(body["options"][1]["parts"]) == 2
    assert body["pickup"] == []  # no warehouse holds both
    assert body["sourcing"]


async def test_a_promise_and_the_later_allocation_agree(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    await receive(api, shop["tee"], shop["big"], 5)
    body = (
        await api.post("/v1/delivery-promises", json=promise_body(shop, [(shop["mug"], 2), (shop["tee"], 1)]))
    ).json()
    assert [s["warehouse"] for s in body["shipments"]] == [shop["big"]]
    assert [p["warehouse"] for p in body["pickup"]] == [shop["big"]]
    order = await place_order(api, shop["channel"], [(shop["mug"], 2), (shop["tee"], 1)])
    assert {a["warehouse"] for line in order["lines"] for a in line["allocations"]} == {shop["big"]}


async def test_a_promise_abroad_after_the_cut_off_and_by_date(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    paris = {"line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}
    body = promise_body(shop, [(shop["mug"], 1)], destination=paris, order_at=FRIDAY_17, deliver_by="2026-12-03")
    result = (await api.post("/v1/delivery-promises", json={**body, "choice": "cheapest_on_time"})).json()
    assert [(o["service"], o["ship_date"], o["delivery_date"], o["on_time"]) for o in result["options"]] == [
        ("standard", "2026-11-30", "2026-12-04", False)
    ]
    assert result["options"][0]["recommended"] is True  # nothing is on time: the fastest


async def test_a_promise_without_the_stock_says_what_is_short(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    body = (await api.post("/v1/delivery-promises", json=promise_body(shop, [(shop["mug"], 50)]))).json()
    assert body["available"] is False
    assert body["shortages"] == [{"sku": shop["mug"], "requested": 50, "available": 10}]
    assert body["options"] == []
    unknown = await api.post("/v1/delivery-promises", json=promise_body(shop, [("NOPE", 1)]))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/body/lines/0/sku"
    no_channel = await api.post(
        "/v1/delivery-promises", json={**promise_body(shop, [(shop["mug"], 1)]), "channel": "x"}
    )
    assert no_channel.status_code == 422


async def test_the_channel_policy_chooses_when_the_request_does_not(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    fast = await make_channel(api, shipping_choice="fastest")
    assert fast["shipping_choice"] == "fastest"
    order = await place_order(api, fast["code"], [(shop["mug"], 1)])
    shipment = (await api.post(f"/v1/orders/{order['id']}/shipments")).json()["data"][0]
    rated = (await api.post(f"/v1/shipments/{shipment['id']}/rates", json={"ready_at": MONDAY_10})).json()
    assert rated["choice"] == "fastest"
    assert [(o["service"], o["recommended"]) for o in rated["options"]] == [("express", True), ("standard", False)]
    chosen = (await api.post(f"/v1/shipments/{shipment['id']}/select-rate", json={"ready_at": MONDAY_10})).json()
    assert (chosen["service"], chosen["shipping_choice"]) == ("express", "fastest")
    changed = await api.patch(f"/v1/channels/{fast['code']}", json={"shipping_choice": "cheapest_on_time"})
    assert changed.json()["shipping_choice"] == "cheapest_on_time"
    assert (await api.patch(f"/v1/channels/{fast['code']}", json={"shipping_choice": "slowest"})).status_code == 422
