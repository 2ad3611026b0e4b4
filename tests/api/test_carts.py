"""/v1/carts through HTTP, on SQLite and PostgreSQL: carts hold stock, the holds follow the lines, and
checkout turns them into the order's reservations without ever letting the stock go."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from oms_api.kit.clock import utcnow
from oms_api.stock.models import Reservation
from tests.support.factories import (
    expire_cart_now,
    make_cart,
    make_channel,
    make_customer,
    make_sku,
    make_warehouse,
    receive,
    recorded_events,
    run_cart_expiry,
)
from tests.support.ledger import assert_ledger_replays
from tests.support.servers import query

ADDRESS = {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def cart_body(channel: str, lines: list[tuple[str, int, str | None]], **extra: Any) -> dict[str, Any]:
    return {
        "channel": channel,
        "lines": [
            {"sku": sku, "quantity": qty, **({"unit_price": {"amount": price, "currency": "EUR"}} if price else {})}
            for sku, qty, price in lines
        ],
        **extra,
    }


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    """A channel, two warehouses (BIG preferred) and two SKUs: mug 5 in BIG + 3 in SMALL, tee 4 in SMALL."""
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


async def reserved(api: httpx.AsyncClient, sku: str) -> dict[str, int]:
    body = (await api.get(f"/v1/skus/{sku}/availability")).json()
    return {w["warehouse"]: w["reserved"] for w in body["warehouses"]}


async def available(api: httpx.AsyncClient, sku: str) -> int:
    return int((await api.get(f"/v1/skus/{sku}/availability")).json()["available"])


def held(cart: dict[str, Any], sku: str) -> dict[str, int]:
    line = next((line for line in cart["lines"] if line["sku"] == sku), None)
    return {} if line is None else {h["warehouse"]: h["quantity"] for h in line["holds"]}


async def ledger_of(api: httpx.AsyncClient, cart_id: str) -> list[tuple[str, int]]:
    rows = (await api.get("/v1/stock-movements", params={"reference": f"cart:{cart_id}", "limit": 200})).json()
    return [(m["type"], m["reserved_delta"]) for m in rows["data"]]


def checkout_body(**extra: Any) -> dict[str, Any]:
    return {"external_ref": extra.pop("external_ref", "WEB-1"), "shipping_address": ADDRESS, **extra}


async def test_creating_a_cart_holds_its_stock_at_once(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    before = utcnow()
    body = cart_body(shop["channel"], [(shop["mug"], 2, "12.50"), (shop["tee"], 1, "5.00")])
    response = await api.post("/v1/carts", json=body, headers={"Idempotency-Key": "cart-1"})
    assert response.status_code == 201, response.text
    cart = response.json()
    assert cart["status"] == "active"
    assert cart["currency"] == "EUR"
    assert cart["channel"] == shop["channel"]
    assert held(cart, shop["mug"]) == {shop["small"]: 2}  # SMALL serves both lines: one shipment
    assert held(cart, shop["tee"]) == {shop["small"]: 1}
    assert cart["subtotal"] == {"amount": "30.00", "currency": "EUR"}
    expires = datetime.fromisoformat(cart["expires_at"])
    assert before + timedelta(minutes=29) < expires <= utcnow() + timedelta(minutes=30)
    assert response.headers["location"] == f"/v1/carts/{cart['id']}"
    assert response.headers["etag"] == '"1"'
    assert await reserved(api, shop["mug"]) == {shop["big"]: 0, shop["small"]: 2}
    assert await available(api, shop["mug"]) == 6
    assert sorted(await ledger_of(api, cart["id"])) == [("hold", 1), ("hold", 2)]
    fetched = await api.get(f"/v1/carts/{cart['id']}")
    assert fetched.json() == cart
    assert fetched.headers["etag"] == '"1"'
    events = await recorded_events(database_url, cart["id"])
    assert [(e["type"], e["aggregate_type"]) for e in events] == [("cart.created", "cart")]
    assert events[0]["data"] == cart
    await assert_ledger_replays(database_url)


async def test_the_channel_sets_how_long_a_cart_holds(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    channel = await make_channel(api, cart_ttl_minutes=5)
    assert channel["cart_ttl_minutes"] == 5
    cart = await make_cart(api, channel["code"], [(shop["mug"], 1)])
    assert datetime.fromisoformat(cart["expires_at"]) <= utcnow() + timedelta(minutes=5)
    assert (await make_channel(api))["cart_ttl_minutes"] == 30
    for bad in (0, 10_081, None):
        refused = await api.patch(f"/v1/channels/{channel['code']}", json={"cart_ttl_minutes": bad})
        assert refused.status_code == 422, bad
    changed = await api.patch(f"/v1/channels/{channel['code']}", json={"cart_ttl_minutes": 10_080})
    assert changed.json()["cart_ttl_minutes"] == 10_080


async def test_a_cart_that_cannot_be_fully_held_is_refused_and_holds_nothing(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    body = cart_body(shop["channel"], [(shop["mug"], 1, None), (shop["tee"], 9, None)])
    response = await api.post("/v1/carts", json=body)
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["shortages"] == [{"sku": shop["tee"], "requested": 9, "available": 4}]
    assert await available(api, shop["mug"]) == 8
    assert (await api.get("/v1/carts")).json()["data"] == []
    await assert_ledger_replays(database_url)


async def test_carts_hold_only_where_the_channels_sourcing_policy_allows(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    """The same policy as the channel's orders: allowed warehouses and safety stock (a cart used to hold where
    its order could not be served from)."""
    only_big = await make_channel(api, sourcing={"allowed_warehouses": [shop["big"]]})
    cart = await make_cart(api, only_big["code"], [(shop["mug"], 2)])
    assert held(cart, shop["mug"]) == {shop["big"]: 2}
    refused = await api.post("/v1/carts", json=cart_body(only_big["code"], [(shop["tee"], 1, None)]))
    assert refused.status_code == 409, refused.text
    assert refused.json()["shortages"] == [{"sku": shop["tee"], "requested": 1, "available": 0}]

    level = (await api.get("/v1/stock-levels", params={"sku": shop["mug"], "warehouse": shop["big"]})).json()
    patched = await api.patch(f"/v1/stock-levels/{level['data'][0]['id']}", json={"safety_stock": 2})
    assert patched.status_code == 200, patched.text
    short = await api.post("/v1/carts", json=cart_body(only_big["code"], [(shop["mug"], 2, None)]))
    assert short.status_code == 409, short.text
    assert short.json()["shortages"] == [{"sku": shop["mug"], "requested": 2, "available": 1}]  # 5 - 2 held - 2 safe
    assert await reserved(api, shop["mug"]) == {shop["big"]: 2, shop["small"]: 0}
    await assert_ledger_replays(database_url)


async def test_held_stock_cannot_be_taken_by_another_cart_or_an_order(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    await make_cart(api, shop["channel"], [(shop["mug"], 7)])
    second = await api.post("/v1/carts", json=cart_body(shop["channel"], [(shop["mug"], 2, None)]))
    assert second.status_code == 409
    assert second.json()["shortages"] == [{"sku": shop["mug"], "requested": 2, "available": 1}]
    order = {
        "channel": shop["channel"],
        "external_ref": "O-1",
        "currency": "EUR",
        "shipping_address": ADDRESS,
        "lines": [{"sku": shop["mug"], "quantity": 2, "unit_price": {"amount": "1.00", "currency": "EUR"}}],
    }
    refused = await api.post("/v1/orders", json=order)
    assert refused.status_code == 409
    assert refused.json()["shortages"] == [{"sku": shop["mug"], "requested": 2, "available": 1}]
    order["lines"][0]["quantity"] = 1
    assert (await api.post("/v1/orders", json=order)).status_code == 201
    assert await available(api, shop["mug"]) == 0
    await assert_ledger_replays(database_url)


async def test_growing_and_shrinking_lines_moves_the_holds_with_them(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    cart = await make_cart(api, shop["channel"], [(shop["mug"], 2)])
    assert held(cart, shop["mug"]) == {shop["big"]: 2}

    grown = await api.patch(
        f"/v1/carts/{cart['id']}/lines",
        json={"lines": [{"sku": shop["mug"], "quantity": 7}, {"sku": shop["tee"], "quantity": 2}]},
        headers={"If-Match": '"1"'},
    )
    assert grown.status_code == 200, grown.text
    cart = grown.json()
    assert grown.headers["etag"] == '"2"'
    assert sum(held(cart, shop["mug"]).values()) == 7
    assert held(cart, shop["tee"]) == {shop["small"]: 2}
    assert [line["line_no"] for line in cart["lines"]] == [1, 2]
    assert cart["lines"][1]["unit_price"] is None
    assert cart["subtotal"] is None
    assert sum((await reserved(api, shop["mug"])).values()) == 7

    shrunk = await api.patch(f"/v1/carts/{cart['id']}/lines", json={"lines": [{"sku": shop["mug"], "quantity": 4}]})
    assert shrunk.status_code == 200, shrunk.text
    assert held(shrunk.json(), shop["mug"]) == {shop["big"]: 4}  # the less preferred warehouse gave way first
    assert await reserved(api, shop["mug"]) == {shop["big"]: 4, shop["small"]: 0}

    replaced = await api.put(
        f"/v1/carts/{cart['id']}/lines",
        json={"lines": [{"sku": shop["tee"], "quantity": 3, "unit_price": {"amount": "2.50", "currency": "EUR"}}]},
    )
    assert replaced.status_code == 200, replaced.text
    cart = replaced.json()
    assert [(line["sku"], line["quantity"]) for line in cart["lines"]] == [(shop["tee"], 3)]
    assert cart["subtotal"] == {"amount": "7.50", "currency": "EUR"}
    assert cart["version"] == 4
    assert await reserved(api, shop["mug"]) == {shop["big"]: 0, shop["small"]: 0}
    assert await reserved(api, shop["tee"]) == {shop["big"]: 0, shop["small"]: 3}

    removed = await api.patch(f"/v1/carts/{cart['id']}/lines", json={"lines": [{"sku": shop["tee"], "quantity": 0}]})
    assert removed.json()["lines"] == []
    assert await available(api, shop["tee"]) == 4
    types = [kind for kind, _ in await ledger_of(api, cart["id"])]
    assert set(types) == {"hold", "hold_release"}
    events = await recorded_events(database_url, cart["id"])
    assert [e["type"] for e in events] == ["cart.created"] + ["cart.updated"] * 4
    await assert_ledger_replays(database_url)


async def test_a_line_change_that_cannot_be_held_changes_nothing(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    cart = await make_cart(api, shop["channel"], [(shop["mug"], 2), (shop["tee"], 1)])
    response = await api.patch(
        f"/v1/carts/{cart['id']}/lines",
        json={"lines": [{"sku": shop["tee"], "quantity": 0}, {"sku": shop["mug"], "quantity": 9}]},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert response.json()["shortages"] == [{"sku": shop["mug"], "requested": 9, "available": 8}]
    assert (await api.get(f"/v1/carts/{cart['id']}")).json() == cart
    assert await available(api, shop["tee"]) == 3
    assert await available(api, shop["mug"]) == 6
    await assert_ledger_replays(database_url)


async def test_checkout_makes_the_holds_the_orders_reservations_without_releasing_them(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    customer = await make_customer(api)
    cart = await make_cart(api, shop["channel"], [(shop["mug"], 7), (shop["tee"], 2)], customer={"id": customer["id"]})
    holds_before = await query(
        database_url,
        select(Reservation.id, Reservation.warehouse_id, Reservation.quantity).where(
            Reservation.cart_id == uuid.UUID(cart["id"])
        ),
    )
    levels_before = {sku: await reserved(api, shop[sku]) for sku in ("mug", "tee")}
    body = checkout_body(
        lines=[{"sku": shop["tee"], "unit_price": {"amount": "5.00", "currency": "EUR"}, "tax_rate": "0.19"}],
        shipping_price={"amount": "4.90", "currency": "EUR"},
        tags=["web"],
    )
    response = await api.post(
        f"/v1/carts/{cart['id']}/checkout", json=body, headers={"If-Match": '"1"', "Idempotency-Key": "co-1"}
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["location"] == f"/v1/orders/{order['id']}"
    assert order["status"] == "confirmed"
    assert order["customer_id"] == customer["id"]
    assert order["external_ref"] == "WEB-1"
    assert order["totals"]["subtotal"] == {"amount": "17.00", "currency": "EUR"}
    assert order["totals"]["tax_total"] == {"amount": "1.90", "currency": "EUR"}
    assert order["totals"]["grand_total"] == {"amount": "23.80", "currency": "EUR"}
    allocations = {
        line["sku"]: {a["warehouse"]: a["quantity"] for a in line["allocations"] if a["status"] == "active"}
        for line in order["lines"]
    }
    assert allocations == {shop["mug"]: held(cart, shop["mug"]), shop["tee"]: held(cart, shop["tee"])}
    assert {sku: await reserved(api, shop[sku]) for sku in ("mug", "tee")} == levels_before
    holds_after = await query(
        database_url,
        select(Reservation.id, Reservation.warehouse_id, Reservation.quantity, Reservation.cart_id).where(
            Reservation.order_id == uuid.UUID(order["id"])
        ),
    )
    assert sorted(tuple(r)[:3] for r in holds_after) == sorted(tuple(r) for r in holds_before)
    assert all(r.cart_id is None for r in holds_after)
    assert all(kind == "hold" for kind, _ in await ledger_of(api, cart["id"]))  # nothing was ever released

    closed = (await api.get(f"/v1/carts/{cart['id']}")).json()
    assert (closed["status"], closed["order_id"], closed["version"]) == ("converted", order["id"], 2)
    assert closed["lines"][0]["holds"] == []
    events = await recorded_events(database_url, cart["id"])
    assert [e["type"] for e in events] == ["cart.created", "cart.converted"]
    assert events[1]["data"]["order_id"] == order["id"]
    history = (await api.get(f"/v1/orders/{order['id']}/events")).json()["data"]
    assert [e["type"] for e in history] == ["order.created", "order.confirmed"]

    again = await api.post(f"/v1/carts/{cart['id']}/checkout", json=checkout_body(external_ref="WEB-2"))
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["order_id"]) == ("cart_converted", order["id"])
    assert again.headers["location"] == f"/v1/orders/{order['id']}"
    changed = await api.patch(f"/v1/carts/{cart['id']}/lines", json={"lines": [{"sku": shop["mug"], "quantity": 1}]})
    assert changed.json()["code"] == "cart_converted"

    cancelled = await api.post(f"/v1/orders/{order['id']}/cancel", json={"reason": "test"})
    assert cancelled.status_code == 200, cancelled.text
    assert await available(api, shop["mug"]) == 8
    assert await available(api, shop["tee"]) == 4
    await assert_ledger_replays(database_url)


async def test_checkout_needs_a_price_for_every_line(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    created = await api.post("/v1/carts", json=cart_body(shop["channel"], [(shop["mug"], 1, None)]))
    cart = created.json()
    missing = await api.post(f"/v1/carts/{cart['id']}/checkout", json=checkout_body())
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "missing_price"
    wrong = await api.post(
        f"/v1/carts/{cart['id']}/checkout",
        json=checkout_body(lines=[{"sku": shop["tee"], "unit_price": {"amount": "1.00", "currency": "EUR"}}]),
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0] == {
        "pointer": "/body/lines/0/sku",
        "detail": f"the cart has no SKU {shop['tee']!r}",
        "code": "not_in_cart",
    }
    too_much = await api.post(
        f"/v1/carts/{cart['id']}/checkout",
        json=checkout_body(
            lines=[
                {
                    "sku": shop["mug"],
                    "unit_price": {"amount": "1.00", "currency": "EUR"},
                    "discount": {"amount": "2.00", "currency": "EUR"},
                }
            ]
        ),
    )
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["pointer"].startswith("/body/lines/0/")
    assert (await api.get(f"/v1/carts/{cart['id']}")).json()["status"] == "active"


async def test_checkout_with_a_taken_external_ref_keeps_the_cart_and_its_holds(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    first = await make_cart(api, shop["channel"], [(shop["mug"], 1)])
    second = await make_cart(api, shop["channel"], [(shop["mug"], 2)])
    done = await api.post(f"/v1/carts/{first['id']}/checkout", json=checkout_body(external_ref="SAME"))
    assert done.status_code == 201
    duplicate = await api.post(f"/v1/carts/{second['id']}/checkout", json=checkout_body(external_ref="SAME"))
    assert duplicate.status_code == 409
    assert (duplicate.json()["code"], duplicate.json()["existing_id"]) == ("duplicate_order", done.json()["id"])
    assert (await api.get(f"/v1/carts/{second['id']}")).json() == second
    assert sum((await reserved(api, shop["mug"])).values()) == 3
    await assert_ledger_replays(database_url)


async def test_expiry_releases_the_holds_and_emits_cart_expired(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    doomed = await make_cart(api, shop["channel"], [(shop["mug"], 3), (shop["tee"], 4)])
    kept = await make_cart(api, shop["channel"], [(shop["mug"], 1)])
    await expire_cart_now(database_url, doomed["id"])

    assert await run_cart_expiry(database_url) == 1
    assert await run_cart_expiry(database_url) == 0

    cart = (await api.get(f"/v1/carts/{doomed['id']}")).json()
    assert (cart["status"], cart["version"]) == ("expired", 2)
    assert cart["closed_at"] is not None
    assert all(line["holds"] == [] for line in cart["lines"])
    assert (await api.get(f"/v1/carts/{kept['id']}")).json()["status"] == "active"
    assert await available(api, shop["tee"]) == 4
    assert await available(api, shop["mug"]) == 7
    deltas = await ledger_of(api, doomed["id"])
    assert sum(d for kind, d in deltas if kind == "hold_release") == -7
    events = await recorded_events(database_url, doomed["id"])
    assert [(e["type"], e["actor"]) for e in events][-1] == ("cart.expired", "system:cart-expiry")
    assert events[-1]["data"]["status"] == "expired"
    listed = (await api.get("/v1/carts", params={"status": "expired"})).json()["data"]
    assert [c["id"] for c in listed] == [doomed["id"]]
    await assert_ledger_replays(database_url)


async def test_the_expiry_job_takes_a_clock_and_a_batch_size(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    carts = [await make_cart(api, shop["channel"], [(shop["mug"], 1)]) for _ in range(3)]
    assert await run_cart_expiry(database_url) == 0
    later = utcnow() + timedelta(minutes=31)
    assert await run_cart_expiry(database_url, now=later, limit=2) == 2
    assert await run_cart_expiry(database_url, now=later, limit=2) == 1
    statuses = {(await api.get(f"/v1/carts/{c['id']}")).json()["status"] for c in carts}
    assert statuses == {"expired"}
    assert await available(api, shop["mug"]) == 8
    await assert_ledger_replays(database_url)


async def test_an_expired_cart_can_no_longer_change_or_be_checked_out(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    cart = await make_cart(api, shop["channel"], [(shop["mug"], 2)])
    await expire_cart_now(database_url, cart["id"])
    # Past its expiry, before the job ran: already refused (the job only gives the stock back).
    for call in (
        api.post(f"/v1/carts/{cart['id']}/checkout", json=checkout_body()),
        api.patch(f"/v1/carts/{cart['id']}/lines", json={"lines": [{"sku": shop["mug"], "quantity": 1}]}),
        api.post(f"/v1/carts/{cart['id']}/extend", json={}),
        api.post(f"/v1/carts/{cart['id']}/abandon", json={}),
    ):
        response = await call
        assert (response.status_code, response.json()["code"]) == (409, "cart_expired"), response.text
    await run_cart_expiry(database_url)
    refused = await api.post(f"/v1/carts/{cart['id']}/checkout", json=checkout_body())
    assert (refused.status_code, refused.json()["code"]) == (409, "cart_expired")
    assert (await api.get("/v1/orders")).json()["data"] == []
    await assert_ledger_replays(database_url)


async def test_extending_pushes_the_expiry_of_the_cart_and_its_holds(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    cart = await make_cart(api, shop["channel"], [(shop["mug"], 2)])
    extended = await api.post(f"/v1/carts/{cart['id']}/extend", json={"minutes": 120}, headers={"If-Match": '"1"'})
    assert extended.status_code == 200, extended.text
    expires = datetime.fromisoformat(extended.json()["expires_at"])
    assert expires > utcnow() + timedelta(minutes=119)
    assert extended.json()["version"] == 2
    rows = await query(database_url, select(Reservation.expires_at).where(Reservation.cart_id == uuid.UUID(cart["id"])))
    assert [r[0] for r in rows] == [expires]
    shorter = await api.post(f"/v1/carts/{cart['id']}/extend", json={"minutes": 5})
    assert (shorter.json()["expires_at"], shorter.json()["version"]) == (extended.json()["expires_at"], 2)
    assert await run_cart_expiry(database_url, now=utcnow() + timedelta(minutes=60)) == 0
    stale = await api.post(f"/v1/carts/{cart['id']}/extend", json={"minutes": 500}, headers={"If-Match": '"1"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")


async def test_abandoning_gives_the_stock_back_at_once(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    cart = await make_cart(api, shop["channel"], [(shop["mug"], 8)])
    abandoned = await api.post(f"/v1/carts/{cart['id']}/abandon", json={"reason": "shopper left"})
    assert abandoned.status_code == 200, abandoned.text
    assert (abandoned.json()["status"], abandoned.json()["status_reason"]) == ("abandoned", "shopper left")
    assert await available(api, shop["mug"]) == 8
    again = await api.post(f"/v1/carts/{cart['id']}/abandon", json={})
    assert (again.status_code, again.json()["code"]) == (409, "cart_abandoned")
    events = await recorded_events(database_url, cart["id"])
    assert [e["type"] for e in events] == ["cart.created", "cart.abandoned"]
    assert await run_cart_expiry(database_url, now=utcnow() + timedelta(days=1)) == 0
    await assert_ledger_replays(database_url)


async def test_carts_are_listed_and_filtered(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    customer = await make_customer(api)
    other = await make_channel(api)
    mine = await make_cart(api, shop["channel"], [(shop["mug"], 1)], customer={"id": customer["id"]})
    theirs = await make_cart(api, other["code"], [])
    gone = await make_cart(api, shop["channel"], [(shop["tee"], 1)])
    await api.post(f"/v1/carts/{gone['id']}/abandon", json={})

    every = (await api.get("/v1/carts", params={"limit": 2})).json()
    assert [c["id"] for c in every["data"]] == [mine["id"], theirs["id"]]
    assert every["has_more"] is True
    by_channel = (await api.get("/v1/carts", params={"channel": other["code"]})).json()["data"]
    assert [c["id"] for c in by_channel] == [theirs["id"]]
    by_customer = (await api.get("/v1/carts", params={"customer_id": customer["id"]})).json()["data"]
    assert [c["id"] for c in by_customer] == [mine["id"]]
    active = (await api.get("/v1/carts", params={"status": "active"})).json()["data"]
    assert [c["id"] for c in active] == [mine["id"], theirs["id"]]
    assert (await api.get("/v1/carts", params={"channel": "nowhere"})).json()["data"] == []
    assert (await api.get(f"/v1/carts/{uuid.uuid4()}")).json()["code"] == "cart_not_found"


async def test_bad_cart_input_is_422_with_pointers(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    twice = await api.post(
        "/v1/carts", json=cart_body(shop["channel"], [(shop["mug"], 1, None), (shop["mug"], 2, None)])
    )
    assert (twice.status_code, twice.json()["errors"][0]["code"]) == (422, "duplicate_sku")
    unknown = await api.post("/v1/carts", json=cart_body(shop["channel"], [("NOPE", 1, None)]))
    assert unknown.json()["errors"][0] == {
        "pointer": "/body/lines/0/sku",
        "detail": "unknown SKU 'NOPE'",
        "code": "unknown_sku",
    }
    mismatch = await api.post("/v1/carts", json=cart_body(shop["channel"], [(shop["mug"], 1, "1.00")], currency="USD"))
    assert mismatch.json()["errors"][0]["pointer"] == "/body/lines/0/unit_price/currency"
    nowhere = await api.post("/v1/carts", json=cart_body("nowhere", []))
    assert nowhere.json()["errors"][0]["code"] == "unknown_channel"
    zero = await api.post("/v1/carts", json=cart_body(shop["channel"], [(shop["mug"], 0, None)]))
    assert zero.status_code == 422
    customer = await api.post("/v1/carts", json=cart_body(shop["channel"], [], customer={"id": str(uuid.uuid4())}))
    assert customer.json()["errors"][0]["code"] == "unknown_customer"
    empty = await make_cart(api, shop["channel"], [])
    no_lines = await api.post(f"/v1/carts/{empty['id']}/checkout", json=checkout_body())
    assert (no_lines.status_code, no_lines.json()["code"]) == (409, "cart_empty")
    added = await api.patch(f"/v1/carts/{empty['id']}/lines", json={"lines": [{"sku": "NOPE", "quantity": 1}]})
    assert added.json()["errors"][0]["pointer"] == "/body/lines/0/sku"
