"""Amounts are bounded so that every total fits its BIGINT column, on SQLite and PostgreSQL: the largest amount a
request may give is stored and read back exactly, one minor unit more is a 422 naming the field (it was a 500 once
a total overflowed), through placement, carts and checkout, and storefront intake."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oms_api.kit.money import MAX_LINE_QUANTITY
from tests.support import storefronts
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.storefronts import WOOCOMMERCE_SECRET, load

TOP = "999999999.99"  # kit.money.MAX_AMOUNT_MINOR cents
ABOVE = "1000000000.00"
ADDRESS = {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def eur(amount: str | Decimal) -> dict[str, str]:
    return {"amount": str(amount), "currency": "EUR"}


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    """A channel and two SKUs with enough stock for lines of the largest quantity."""
    channel = await make_channel(api, integrations={"woocommerce": {"webhook_secret": WOOCOMMERCE_SECRET}})
    warehouse = await make_warehouse(api)
    skus = [await make_sku(api), await make_sku(api)]
    for sku in skus:
        await receive(api, sku["sku"], warehouse["code"], 2 * MAX_LINE_QUANTITY)
    return {"channel": channel["code"], "skus": [s["sku"] for s in skus]}


def order_body(shop: dict[str, Any], lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "channel": shop["channel"],
        "external_ref": extra.pop("external_ref", "BIG-1"),
        "currency": "EUR",
        "shipping_address": ADDRESS,
        "lines": lines,
        **extra,
    }


def assert_too_large(response: httpx.Response, pointer: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [(pointer, "amount_too_large")], problem
    assert f"at most {TOP} EUR" in problem["errors"][0]["detail"]


async def test_the_largest_amounts_are_stored_and_read_back_exactly(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    lines = [
        {"sku": sku, "quantity": MAX_LINE_QUANTITY, "unit_price": eur(TOP), "tax_rate": "1"} for sku in shop["skus"]
    ]
    body = order_body(shop, lines, shipping_price=eur(TOP), shipping_tax=eur(TOP))
    placed = await api.post("/v1/orders", json=body)
    assert placed.status_code == 201, placed.text
    order = (await api.get(f"/v1/orders/{placed.json()['id']}")).json()
    value = Decimal(TOP) * MAX_LINE_QUANTITY
    assert [(line["unit_price"], line["tax"], line["total"]) for line in order["lines"]] == [
        (eur(TOP), eur(f"{value:.2f}"), eur(f"{2 * value:.2f}"))
    ] * 2
    assert order["totals"] == {
        "subtotal": eur(f"{2 * value:.2f}"),
        "discount_total": eur("0.00"),
        "shipping_total": eur(TOP),
        "shipping_tax": eur(TOP),
        "tax_total": eur(f"{2 * value + Decimal(TOP):.2f}"),
        "grand_total": eur(f"{4 * value + 2 * Decimal(TOP):.2f}"),
        "tax_breakdown": [
            {"rate": "1", "category": None, "taxable": eur(f"{2 * value:.2f}"), "tax": eur(f"{2 * value:.2f}")}
        ],
    }


@pytest.mark.parametrize(
    ("line_extra", "order_extra", "pointer"),
    [
        ({"unit_price": eur(ABOVE)}, {}, "/body/lines/0/unit_price"),
        ({"discount": eur(ABOVE)}, {}, "/body/lines/0/discount"),
        ({"tax": eur(ABOVE)}, {}, "/body/lines/0/tax"),
        ({}, {"shipping_price": eur(ABOVE)}, "/body/shipping_price"),
        ({}, {"shipping_tax": eur(ABOVE)}, "/body/shipping_tax"),
    ],
)
async def test_one_minor_unit_above_the_largest_amount_is_a_422_naming_the_field(
    api: httpx.AsyncClient,
    shop: dict[str, Any],
    line_extra: dict[str, Any],
    order_extra: dict[str, Any],
    pointer: str,
) -> None:
    line = {"sku": shop["skus"][0], "quantity": 2, "unit_price": eur(TOP), **line_extra}
    assert_too_large(await api.post("/v1/orders", json=order_body(shop, [line], **order_extra)), pointer)


async def test_the_drills_overflowing_line_is_a_422_not_a_500(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    line = {"sku": shop["skus"][0], "quantity": 100_000, "unit_price": eur("999999999999999.99")}
    assert_too_large(await api.post("/v1/orders", json=order_body(shop, [line])), "/body/lines/0/unit_price")


async def test_a_quantity_above_the_largest_is_a_422(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    line = {"sku": shop["skus"][0], "quantity": MAX_LINE_QUANTITY + 1, "unit_price": eur("1.00")}
    response = await api.post("/v1/orders", json=order_body(shop, [line]))
    assert response.status_code == 422, response.text
    assert [e["pointer"] for e in response.json()["errors"]] == ["/body/lines/0/quantity"]


async def test_a_cart_at_the_largest_amounts_checks_out_exactly(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    sku = shop["skus"][0]
    above = {"channel": shop["channel"], "lines": [{"sku": sku, "quantity": 1, "unit_price": eur(ABOVE)}]}
    assert_too_large(await api.post("/v1/carts", json=above), "/body/lines/0/unit_price")
    body = {"channel": shop["channel"], "lines": [{"sku": sku, "quantity": MAX_LINE_QUANTITY, "unit_price": eur(TOP)}]}
    cart = await api.post("/v1/carts", json=body)
    assert cart.status_code == 201, cart.text
    assert cart.json()["lines"][0]["unit_price"] == eur(TOP)
    checkout = {"external_ref": "CART-BIG", "shipping_address": ADDRESS, "shipping_price": eur(ABOVE)}
    url = f"/v1/carts/{cart.json()['id']}/checkout"
    assert_too_large(await api.post(url, json=checkout), "/body/shipping_price")
    checkout["shipping_price"] = eur(TOP)
    checkout["lines"] = [{"sku": sku, "tax": eur(ABOVE)}]
    assert_too_large(await api.post(url, json=checkout), "/body/lines/0/tax")
    checkout["lines"] = [{"sku": sku, "tax": eur(TOP)}]
    placed = await api.post(url, json=checkout)
    assert placed.status_code == 201, placed.text
    order = (await api.get(f"/v1/orders/{placed.json()['id']}")).json()
    value = Decimal(TOP) * MAX_LINE_QUANTITY
    assert order["totals"]["grand_total"] == eur(f"{value + 2 * Decimal(TOP):.2f}")
    assert order["lines"][0]["unit_price"] == eur(TOP)


def woocommerce_order(totals: list[str]) -> dict[str, Any]:
    """The fixture order with one line of one unit per amount in ``totals`` (the SKU need not exist)."""
    payload = load("woocommerce/order_created.json")
    item = payload["line_items"][0]
    payload["line_items"] = [
        {**item, "id": 1000 + n, "quantity": 1, "subtotal": total, "total": total, "total_tax": "0.00", "taxes": []}
        for n, total in enumerate(totals)
    ]
    payload["total"] = str(sum(Decimal(t) for t in totals) + 10)
    return payload


async def inbound_outcome(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/v1/inbound-events", params={"source": "woocommerce"})
    assert response.status_code == 200, response.text
    [event] = response.json()["data"]
    return dict(event)


async def test_a_storefront_order_that_would_overflow_its_totals_fails_as_out_of_range(
    api: httpx.AsyncClient, app: FastAPI, shop: dict[str, Any]
) -> None:
    """Intake maps storefront amounts itself: 100 lines of 999999999999999.99 made a grand total no column holds."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms.test") as platform:
        payload = woocommerce_order(["999999999999999.99"] * 100)
        response = await storefronts.woocommerce(platform, shop["channel"], payload)
    assert response.status_code == 200, response.text
    event = await inbound_outcome(api)
    assert event["outcome"] == "failed", event
    assert "out of range" in event["error"], event
    orders = await api.get("/v1/orders", params={"channel": shop["channel"]})
    assert orders.json()["data"] == []


async def test_a_storefront_order_at_the_largest_amount_is_taken_exactly(
    api: httpx.AsyncClient, app: FastAPI, shop: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms.test") as platform:
        response = await storefronts.woocommerce(platform, shop["channel"], woocommerce_order([TOP, TOP]))
    assert response.status_code == 200, response.text
    assert (await inbound_outcome(api))["outcome"] in {"processed", "held"}
    [summary] = (await api.get("/v1/orders", params={"channel": shop["channel"]})).json()["data"]
    order = (await api.get(f"/v1/orders/{summary['id']}")).json()
    assert [line["unit_price"] for line in order["lines"]] == [{"amount": TOP, "currency": "USD"}] * 2
    assert order["totals"]["subtotal"] == {"amount": f"{2 * Decimal(TOP):.2f}", "currency": "USD"}
