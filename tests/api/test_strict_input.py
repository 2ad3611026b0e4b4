"""Request bodies take numbers and booleans as themselves and currencies that name money, on SQLite and PostgreSQL.

A quantity of ``"2"`` or ``true`` was accepted (``true`` stored as 1); ``XXX`` ("no currency") and the other ISO 4217
non-currencies could price an order. Money amounts stay decimal strings and tax rates decimal strings or numbers,
as the API conventions document them; query parameters are text by nature and stay parsed from it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oms_api.kit.money import NON_CURRENCIES
from tests.support.factories import make_channel, make_sku, make_warehouse, receive


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    channel = await make_channel(api)
    warehouse = await make_warehouse(api)
    sku = await make_sku(api)
    await receive(api, sku["sku"], warehouse["code"], 10)
    return {"channel": channel["code"], "warehouse": warehouse["code"], "sku": sku["sku"]}


def order_body(shop: dict[str, Any], quantity: Any = 1, currency: str = "EUR", **line: Any) -> dict[str, Any]:
    return {
        "channel": shop["channel"],
        "external_ref": "STRICT-1",
        "currency": currency,
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "country": "DE"},
        "lines": [
            {"sku": shop["sku"], "quantity": quantity, "unit_price": {"amount": "2.50", "currency": currency}, **line}
        ],
    }


def errors(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(e["pointer"], e["code"]) for e in response.json()["errors"]]


@pytest.mark.parametrize("quantity", ["2", True, 2.0, "1e1"])
async def test_a_quantity_that_is_not_a_json_integer_is_a_422(
    api: httpx.AsyncClient, shop: dict[str, Any], quantity: Any
) -> None:
    response = await api.post("/v1/orders", json=order_body(shop, quantity))
    assert errors(response) == [("/body/lines/0/quantity", "int_type")]
    assert (await api.get("/v1/orders")).json()["data"] == [], "nothing was placed"


async def test_documented_string_forms_are_still_taken(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    """Amounts are decimal strings; a tax rate is a decimal string or a number."""
    response = await api.post("/v1/orders", json=order_body(shop, 2, tax_rate="0.19"))
    assert response.status_code == 201, response.text
    line = response.json()["lines"][0]
    assert (line["quantity"], line["tax_rate"], line["tax"]["amount"]) == (2, "0.19", "0.95")
    number = order_body(shop, 1, tax_rate=0.19)
    number["external_ref"] = "STRICT-2"
    assert (await api.post("/v1/orders", json=number)).status_code == 201


@pytest.mark.parametrize("active", [1, 0, "true", "false"])
async def test_a_boolean_is_true_or_false_and_nothing_else(
    api: httpx.AsyncClient, shop: dict[str, Any], active: Any
) -> None:
    pointer_codes = errors(await api.patch(f"/v1/skus/{shop['sku']}", json={"active": active}))
    assert [p for p, _ in pointer_codes] == ["/body/active"]
    response = await api.patch(f"/v1/skus/{shop['sku']}", json={"active": False})
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False


async def test_numbers_elsewhere_are_strict_too(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    movement = {"type": "receipt", "sku": shop["sku"], "warehouse": shop["warehouse"], "quantity": "5"}
    assert errors(await api.post("/v1/stock-movements", json=movement)) == [("/body/quantity", "int_type")]
    warehouse = {"code": "WH-STRICT", "name": "Strict", "latitude": "52.5", "longitude": 13, "priority": True}
    assert sorted(errors(await api.post("/v1/warehouses", json=warehouse))) == [
        ("/body/latitude", "float_type"),
        ("/body/priority", "int_type"),
    ]
    warehouse.update(latitude=52, priority=1)  # an integer is a number wherever a float is taken
    created = await api.post("/v1/warehouses", json=warehouse)
    assert created.status_code == 201, created.text
    assert (created.json()["latitude"], created.json()["priority"]) == (52.0, 1)


@pytest.mark.parametrize("code", ["XXX", "XAU", "XTS", "XDR"])
async def test_an_order_in_a_non_currency_is_a_422(api: httpx.AsyncClient, shop: dict[str, Any], code: str) -> None:
    assert code in NON_CURRENCIES
    found = errors(await api.post("/v1/orders", json=order_body(shop, currency=code)))
    assert ("/body/currency", "invalid_currency") in found
    assert ("/body/lines/0/unit_price/currency", "invalid_currency") in found


async def test_carts_channels_and_rates_refuse_the_non_currencies(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    cart = {"channel": shop["channel"], "currency": "XXX", "lines": []}
    assert errors(await api.post("/v1/carts", json=cart)) == [("/body/currency", "invalid_currency")]
    channel = {"code": "metal", "name": "Metal", "type": "web", "default_currency": "XAU"}
    assert errors(await api.post("/v1/channels", json=channel)) == [("/body/default_currency", "invalid_currency")]
    patched = await api.patch(f"/v1/channels/{shop['channel']}", json={"default_currency": "XTS"})
    assert errors(patched) == [("/body/default_currency", "invalid_currency")]
    line = {"sku": shop["sku"], "quantity": 1, "unit_price": {"amount": "1", "currency": "XPT"}}
    cart = {"channel": shop["channel"], "lines": [line]}
    assert ("/body/lines/0/unit_price/currency", "invalid_currency") in errors(await api.post("/v1/carts", json=cart))
