"""Credit control through HTTP, on SQLite and PostgreSQL: an order that lifts its customer's exposure (open invoices
plus orders not yet invoiced) above the credit limit is placed on a ``credit`` hold, released only with a reason."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import make_customer, recorded_events
from tests.support.invoicing import check, eur, invoice, invoicing_shop, taxed_order

# taxed_order: 47.83 EUR


async def business(api: httpx.AsyncClient, limit: str) -> dict[str, Any]:
    return await make_customer(api, company="Babbage Ltd", credit_limit=eur(limit))


async def test_an_order_over_the_credit_limit_is_held_and_released_with_a_reason(
    api: httpx.AsyncClient, database_url: str
) -> None:
    shop = await invoicing_shop(api)
    customer = await business(api, "100.00")
    first = await taxed_order(api, shop, customer={"id": customer["id"]})
    second = await taxed_order(api, shop, customer={"id": customer["id"]})
    assert (first["status"], second["status"]) == ("confirmed", "confirmed")

    third = await taxed_order(api, shop, customer={"id": customer["id"]})
    assert (third["status"], third["hold_type"]) == ("on_hold", "credit")
    assert third["status_reason"] == (
        "credit limit 100.00 EUR exceeded: exposure 143.49 EUR (open invoices 0.00 EUR, not yet invoiced orders "
        "143.49 EUR)"
    )
    assert (await recorded_events(database_url, third["id"]))[-1]["type"] == "order.on_hold"

    path = f"/v1/orders/{third['id']}/release-hold"
    refused = await api.post(path, json={})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/body/reason"
    released = check(await api.post(path, json={"reason": "approved by finance (J. Doe)"}))
    assert (released["status"], released["hold_type"]) == ("confirmed", None)


async def test_invoiced_orders_count_once_and_payments_lower_the_exposure(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    customer = await business(api, "100.00")
    first = await taxed_order(api, shop, customer={"id": customer["id"]})
    issued = await invoice(api, first["id"])
    second = await taxed_order(api, shop, customer={"id": customer["id"]})
    assert second["status"] == "confirmed"  # 47.83 invoiced + 47.83 not yet: 95.66
    paid = await api.post(
        f"/v1/invoices/{issued['id']}/payments", json={"received_on": issued["issue_date"], "amount": eur("40.00")}
    )
    assert paid.status_code == 201, paid.text
    third = await taxed_order(api, shop, customer={"id": customer["id"]})
    assert third["status"] == "on_hold"  # 7.83 due + 2 x 47.83 not invoiced: 103.49
    assert "open invoices 7.83 EUR, not yet invoiced orders 95.66 EUR" in third["status_reason"]


async def test_cancelled_orders_and_customers_without_a_limit_are_not_held(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    customer = await business(api, "50.00")
    first = await taxed_order(api, shop, customer={"id": customer["id"]})
    cancelled = await api.post(f"/v1/orders/{first['id']}/cancel", json={"reason": "changed mind"})
    assert cancelled.status_code == 200, cancelled.text
    second = await taxed_order(api, shop, customer={"id": customer["id"]})
    assert second["status"] == "confirmed"

    unlimited = await make_customer(api, company="No Limits Ltd")
    for _ in range(3):
        assert (await taxed_order(api, shop, customer={"id": unlimited["id"]}))["status"] == "confirmed"
    anonymous = await taxed_order(api, shop)
    assert anonymous["status"] == "confirmed"


async def test_an_exposure_that_cannot_be_converted_is_a_breach(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    customer = await business(api, "1000.00")
    usd = {"amount": "10.00", "currency": "USD"}
    body = {
        "channel": shop["channel"],
        "external_ref": "USD-1",
        "currency": "USD",
        "customer": {"id": customer["id"]},
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [{"sku": shop["mug"], "quantity": 1, "unit_price": usd}],
    }
    order = check(await api.post("/v1/orders", json=body), 201)
    assert (order["status"], order["hold_type"]) == ("on_hold", "credit")
    assert order["status_reason"].startswith("credit limit 1000.00 EUR cannot be checked: no exchange rate from USD")
