"""Taxes and shipping charges on orders through HTTP, on SQLite and PostgreSQL.

A table of cases on both price bases, with amounts that round awkwardly, a JPY order (no decimals) and a KWD
order (three): each checks the lines' tax, the totals and the breakdown per rate.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oms_api.documents.service import receipt_of
from oms_api.orders.schemas import Order
from tests.support.factories import (
    make_carrier,
    make_channel,
    make_shipments,
    make_sku,
    make_warehouse,
    receive,
    recorded_events,
)

RATES = [
    ("DE", "standard", "0.19"),
    ("DE", "reduced", "0.07"),
    ("JP", "standard", "0.10"),
    ("FR", "standard", "0.20"),
]


@pytest.fixture
async def taxed(api: httpx.AsyncClient) -> dict[str, Any]:
    """Rates for DE, JP and FR; a standard and a reduced SKU in stock; one channel per price basis."""
    for country, category, rate in RATES:
        response = await api.post(
            "/v1/tax-rates",
            json={"country": country, "category": category, "rate": rate, "valid_from": "2020-01-01"},
        )
        assert response.status_code == 201, response.text
    warehouse = await make_warehouse(api)
    standard, reduced = await make_sku(api), await make_sku(api, tax_category="reduced")
    for sku in (standard, reduced):
        await receive(api, sku["sku"], warehouse["code"], 100)
    exclusive = await make_channel(api)
    inclusive = await make_channel(api, price_basis="tax_inclusive")
    return {
        "standard": standard["sku"],
        "reduced": reduced["sku"],
        "exclusive": exclusive["code"],
        "inclusive": inclusive["code"],
    }


def order(channel: str, currency: str, country: str, lines: list[tuple[str, int, str]], **extra: Any) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_ref": extra.pop("external_ref", f"T-{channel}-{currency}-{country}-{len(lines)}"),
        "currency": currency,
        "shipping_address": {"line1": "1 Main St", "city": "Town", "postal_code": "10115", "country": country},
        "lines": [
            {"sku": sku, "quantity": qty, "unit_price": {"amount": price, "currency": currency}}
            for sku, qty, price in lines
        ],
        **extra,
    }


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


# (basis, currency, country, lines [(sku kind, qty, unit price)], shipping, line taxes, subtotal, shipping tax,
#  tax total, grand total, breakdown [(rate, category, taxable, tax)])
CASES = [
    pytest.param(
        "exclusive",
        "EUR",
        "DE",
        [("standard", 3, "9.99"), ("reduced", 1, "12.50")],
        "4.90",
        ["5.69", "0.88"],  # 29.97 x 0.19 = 5.6943; 12.50 x 0.07 = 0.875 rounds half up
        "42.47",
        "0.93",  # 4.90 x 0.19 = 0.931
        "7.50",
        "54.87",
        [
            ("0.19", "standard", "29.97", "5.69"),
            ("0.19", "shipping", "4.90", "0.93"),
            ("0.07", "reduced", "12.50", "0.88"),
        ],
        id="eur-exclusive-two-rates-and-shipping",
    ),
    pytest.param(
        "inclusive",
        "EUR",
        "DE",
        [("standard", 1, "19.99"), ("reduced", 1, "10.70")],
        "4.90",
        ["3.19", "0.70"],  # 19.99 x 0.19 / 1.19 = 3.1917; 10.70 x 0.07 / 1.07 = 0.70
        "30.69",
        "0.78",  # 4.90 x 0.19 / 1.19 = 0.7824
        "4.67",
        "35.59",  # the tax is inside the prices: not added again
        [
            ("0.19", "standard", "16.80", "3.19"),
            ("0.19", "shipping", "4.12", "0.78"),
            ("0.07", "reduced", "10.00", "0.70"),
        ],
        id="eur-inclusive-two-rates-and-shipping",
    ),
    pytest.param(
        "inclusive",
        "JPY",
        "JP",
        [("standard", 1, "1000")],
        None,
        ["91"],  # 1000 x 0.10 / 1.10 = 90.9
        "1000",
        "0",
        "91",
        "1000",
        [("0.1", "standard", "909", "91")],
        id="jpy-inclusive",
    ),
    pytest.param(
        "exclusive",
        "JPY",
        "JP",
        [("standard", 3, "333")],
        None,
        ["100"],  # 999 x 0.10 = 99.9
        "999",
        "0",
        "100",
        "1099",
        [("0.1", "standard", "999", "100")],
        id="jpy-exclusive",
    ),
    pytest.param(
        "exclusive",
        "KWD",
        "DE",
        [("standard", 1, "1.005"), ("reduced", 2, "0.250")],
        None,
        ["0.191", "0.035"],  # 1.005 x 0.19 = 0.19095; 0.500 x 0.07 = 0.035
        "1.505",
        "0.000",
        "0.226",
        "1.731",
        [("0.19", "standard", "1.005", "0.191"), ("0.07", "reduced", "0.500", "0.035")],
        id="kwd-exclusive-three-decimals",
    ),
    pytest.param(
        "inclusive",
        "KWD",
        "DE",
        [("standard", 1, "1.005")],
        None,
        ["0.160"],  # 1.005 x 0.19 / 1.19 = 0.16046
        "1.005",
        "0.000",
        "0.160",
        "1.005",
        [("0.19", "standard", "0.845", "0.160")],
        id="kwd-inclusive-three-decimals",
    ),
    pytest.param(
        "exclusive",
        "EUR",
        "US",
        [("standard", 2, "10.00")],
        "5.00",
        ["0.00"],  # no rate anywhere in the US: no tax is collected there
        "20.00",
        "0.00",
        "0.00",
        "25.00",
        [],
        id="untaxed-destination",
    ),
]


@pytest.mark.parametrize(
    (
        "basis",
        "currency",
        "country",
        "lines",
        "shipping",
        "line_taxes",
        "subtotal",
        "shipping_tax",
        "tax",
        "grand",
        "breakdown",
    ),
    CASES,
)
async def test_orders_are_taxed_by_the_destinations_rules_on_the_channels_price_basis(
    api: httpx.AsyncClient,
    taxed: dict[str, Any],
    basis: str,
    currency: str,
    country: str,
    lines: list[tuple[str, int, str]],
    shipping: str | None,
    line_taxes: list[str],
    subtotal: str,
    shipping_tax: str,
    tax: str,
    grand: str,
    breakdown: list[tuple[str, str, str, str]],
) -> None:
    body = order(taxed[basis], currency, country, [(taxed[kind], qty, price) for kind, qty, price in lines])
    if shipping is not None:
        body["shipping_price"] = money(shipping, currency)
    response = await api.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    placed = response.json()
    assert placed["prices_include_tax"] is (basis == "inclusive")
    assert [line["tax"]["amount"] for line in placed["lines"]] == line_taxes
    totals = placed["totals"]
    assert totals["subtotal"]["amount"] == subtotal
    assert totals["shipping_tax"]["amount"] == shipping_tax
    assert totals["tax_total"]["amount"] == tax
    assert totals["grand_total"] == money(grand, currency)
    got = [(e["rate"], e["category"], e["taxable"]["amount"], e["tax"]["amount"]) for e in totals["tax_breakdown"]]
    assert sorted(got) == sorted(breakdown)
    if breakdown:
        assert sum(int(e["tax"]["amount"].replace(".", "")) for e in totals["tax_breakdown"]) == int(
            tax.replace(".", "")
        )
    again = (await api.get(f"/v1/orders/{placed['id']}")).json()
    assert again["totals"] == totals


async def test_a_line_that_carries_its_tax_keeps_it(api: httpx.AsyncClient, taxed: dict[str, Any]) -> None:
    body = order(taxed["exclusive"], "EUR", "DE", [(taxed["standard"], 1, "10.00")])
    body["lines"][0]["tax"] = money("1.23")
    body["shipping_price"], body["shipping_tax"] = money("5.00"), money("0.50")
    placed = (await api.post("/v1/orders", json=body)).json()
    assert placed["lines"][0]["tax"]["amount"] == "1.23"
    assert placed["lines"][0]["tax_category"] is None
    assert placed["totals"]["tax_total"]["amount"] == "1.73"
    assert placed["totals"]["grand_total"]["amount"] == "16.73"
    assert placed["totals"]["tax_breakdown"] == []


async def test_a_rate_the_line_gives_is_used_on_the_orders_basis(api: httpx.AsyncClient, taxed: dict[str, Any]) -> None:
    body = order(taxed["inclusive"], "EUR", "US", [(taxed["standard"], 1, "11.90")])
    body["lines"][0]["tax_rate"] = "0.19"
    placed = (await api.post("/v1/orders", json=body)).json()
    assert placed["lines"][0]["tax"]["amount"] == "1.90"
    assert placed["totals"]["grand_total"]["amount"] == "11.90"
    assert placed["totals"]["tax_breakdown"][0]["category"] is None


async def test_a_taxed_destination_without_a_rate_for_the_category_is_refused(
    api: httpx.AsyncClient, taxed: dict[str, Any]
) -> None:
    body = order(taxed["exclusive"], "EUR", "FR", [(taxed["standard"], 1, "10.00"), (taxed["reduced"], 1, "5.00")])
    response = await api.post("/v1/orders", json=body)
    assert response.status_code == 422
    assert [(e["pointer"], e["code"]) for e in response.json()["errors"]] == [("/body/lines/1/sku", "tax_rate_missing")]


async def test_the_order_may_say_its_prices_include_tax(api: httpx.AsyncClient, taxed: dict[str, Any]) -> None:
    body = order(taxed["exclusive"], "EUR", "DE", [(taxed["standard"], 1, "11.90")], prices_include_tax=True)
    placed = (await api.post("/v1/orders", json=body)).json()
    assert placed["prices_include_tax"] is True
    assert placed["lines"][0]["tax"]["amount"] == "1.90"
    assert placed["totals"]["grand_total"]["amount"] == "11.90"


async def test_a_flat_shipping_charge_is_taxed_and_free_above_its_threshold(
    api: httpx.AsyncClient, taxed: dict[str, Any]
) -> None:
    channel = await make_channel(
        api, shipping_charge={"mode": "flat", "amount": money("4.95"), "free_over": money("50.00")}
    )
    assert channel["shipping_charge"] == {"mode": "flat", "amount": money("4.95"), "free_over": money("50.00")}
    small = (
        await api.post("/v1/orders", json=order(channel["code"], "EUR", "DE", [(taxed["standard"], 1, "10.00")]))
    ).json()
    assert small["totals"]["shipping_total"]["amount"] == "4.95"
    assert small["totals"]["shipping_tax"]["amount"] == "0.94"  # 4.95 x 0.19 = 0.9405
    assert small["totals"]["grand_total"]["amount"] == "17.79"  # 10.00 + 1.90 + 4.95 + 0.94
    big = order(channel["code"], "EUR", "DE", [(taxed["standard"], 5, "10.00")], external_ref="big")
    placed = (await api.post("/v1/orders", json=big)).json()
    assert placed["totals"]["shipping_total"]["amount"] == "0.00"
    given = order(channel["code"], "EUR", "DE", [(taxed["standard"], 1, "10.00")], external_ref="given")
    given["shipping_price"] = money("2.00")
    assert (await api.post("/v1/orders", json=given)).json()["totals"]["shipping_total"]["amount"] == "2.00"
    other = order(channel["code"], "JPY", "JP", [(taxed["standard"], 1, "1000")], external_ref="yen")
    refused = await api.post("/v1/orders", json=other)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "shipping_price_required"


async def test_a_flat_charge_must_be_in_the_channels_currency(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/channels",
        json={
            "code": "flat-usd",
            "name": "Flat",
            "type": "web",
            "default_currency": "EUR",
            "shipping_charge": {"mode": "flat", "amount": money("4.95", "USD")},
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "currency_mismatch"
    missing = await api.post(
        "/v1/channels",
        json={
            "code": "flat-x",
            "name": "Flat",
            "type": "web",
            "default_currency": "EUR",
            "shipping_charge": {"mode": "flat"},
        },
    )
    assert missing.status_code == 422


async def test_the_receipt_shows_shipping_and_the_tax_per_rate(api: httpx.AsyncClient, taxed: dict[str, Any]) -> None:
    body = order(taxed["exclusive"], "EUR", "DE", [(taxed["standard"], 1, "10.00")], shipping_price=money("4.99"))
    placed = (await api.post("/v1/orders", json=body)).json()
    assert placed["totals"]["shipping_total"]["amount"] == "4.99"
    receipt = receipt_of(Order.model_validate(placed))
    assert ("Shipping", "4.99 EUR") in receipt.totals
    assert ("Tax 19% on 10.00 EUR", "1.90 EUR") in receipt.totals
    assert ("Tax 19% on 4.99 EUR", "0.95 EUR") in receipt.totals  # 4.99 x 0.19 = 0.9481
    assert receipt.totals[-1] == ("Total", "17.84 EUR")


async def test_the_rate_the_first_shipment_selects_becomes_the_orders_shipping_charge(
    api: httpx.AsyncClient, taxed: dict[str, Any], database_url: str
) -> None:
    await make_carrier(api)
    channel = await make_channel(api, shipping_charge={"mode": "selected_rate"})
    placed = (
        await api.post("/v1/orders", json=order(channel["code"], "EUR", "DE", [(taxed["standard"], 1, "10.00")]))
    ).json()
    assert placed["totals"]["shipping_total"]["amount"] == "0.00"
    assert placed["totals"]["grand_total"]["amount"] == "11.90"
    shipment = (await make_shipments(api, placed["id"]))[0]
    chosen = await api.post(f"/v1/shipments/{shipment['id']}/select-rate", json={})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["shipping_price"] == money("4.90")
    after = (await api.get(f"/v1/orders/{placed['id']}")).json()
    assert after["totals"]["shipping_total"]["amount"] == "4.90"
    assert after["totals"]["shipping_tax"]["amount"] == "0.93"  # 4.90 x 0.19 = 0.931
    assert after["totals"]["tax_total"]["amount"] == "2.83"
    assert after["totals"]["grand_total"]["amount"] == "17.73"
    assert ("0.19", "shipping", "4.90", "0.93") in [
        (e["rate"], e["category"], e["taxable"]["amount"], e["tax"]["amount"]) for e in after["totals"]["tax_breakdown"]
    ]
    assert after["version"] > placed["version"]
    assert "order.updated" in [e["type"] for e in await recorded_events(database_url, placed["id"])]
    # choosing again (another carrier service) does not charge twice
    await api.post(f"/v1/shipments/{shipment['id']}/select-rate", json={"choice": "fastest"})
    assert (await api.get(f"/v1/orders/{placed['id']}")).json()["totals"] == after["totals"]


async def test_a_channel_that_charges_as_given_leaves_shipping_to_the_order(
    api: httpx.AsyncClient, taxed: dict[str, Any]
) -> None:
    await make_carrier(api)
    channel = await make_channel(api)
    assert channel["shipping_charge"] == {"mode": "as_given", "amount": None, "free_over": None}
    placed = (
        await api.post("/v1/orders", json=order(channel["code"], "EUR", "DE", [(taxed["standard"], 1, "10.00")]))
    ).json()
    shipment = (await make_shipments(api, placed["id"]))[0]
    assert (await api.post(f"/v1/shipments/{shipment['id']}/select-rate", json={})).status_code == 200
    assert (await api.get(f"/v1/orders/{placed['id']}")).json()["totals"]["shipping_total"]["amount"] == "0.00"
