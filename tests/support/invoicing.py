"""Invoicing fixtures for tests: a shop that issues invoices (a legal entity, a channel, two warehouses, two SKUs and
a carrier) and orders with taxes, discounts and shipping."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from tests.support.factories import make_carrier, make_channel, make_sku, make_warehouse, receive

_refs = itertools.count(1)

SELLER = {
    "code": "acme-de",
    "name": "ACME GmbH",
    "vat_id": "DE 136 695 976",
    "registration_id": "HRB 12345",
    "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "email": "billing@acme.example",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def check(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_entity(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    return check(await api.post("/v1/legal-entities", json={**SELLER, **overrides}), 201)


async def invoicing_shop(api: httpx.AsyncClient, policy: str = "manual", **channel: Any) -> dict[str, Any]:
    """A channel with ``invoice_policy``, a default legal entity, a mug at BIG and a tee at SMALL, a carrier."""
    found = await api.get("/v1/legal-entities/acme-de")
    entity = found.json() if found.status_code == 200 else await make_entity(api, is_default=True)
    made = await make_channel(api, invoice_policy=policy, **channel)
    big = await make_warehouse(api, priority=10)
    small = await make_warehouse(api, priority=1)
    mug = await make_sku(api, weight_g=400)
    tee = await make_sku(api, weight_g=200)
    await receive(api, mug["sku"], big["code"], 500)
    await receive(api, tee["sku"], small["code"], 500)
    carrier = await make_carrier(api)
    return {
        "entity": entity,
        "channel": made["code"],
        "channel_id": made["id"],
        "big": big["code"],
        "small": small["code"],
        "mug": mug["sku"],
        "tee": tee["sku"],
        "carrier": carrier["code"],
    }


async def taxed_order(
    api: httpx.AsyncClient, shop: dict[str, Any], mugs: int = 3, tees: int = 1, **extra: Any
) -> dict[str, Any]:
    """``mugs`` mugs at 10.00 (19 %, 1.00 discount on the line) and ``tees`` tees at 7.00 (7 %), shipping 4.90 + 0.93
    tax."""
    lines = [
        {"sku": shop["mug"], "quantity": mugs, "unit_price": eur("10.00"), "discount": eur("1.00"), "tax_rate": "0.19"},
        {"sku": shop["tee"], "quantity": tees, "unit_price": eur("7.00"), "tax_rate": "0.07"},
    ]
    body = {"shipping_price": eur("4.90"), "shipping_tax": eur("0.93"), **extra}
    n = next(_refs)
    payload = {
        "channel": shop["channel"],
        "external_ref": f"INV-ORD-{n}",
        "currency": "EUR",
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": lines,
        **body,
    }
    return check(await api.post("/v1/orders", json=payload), 201)


async def ship(api: httpx.AsyncClient, shipment_id: str, carrier: str) -> dict[str, Any]:
    for action in ("start-picking", "pack"):
        check(await api.post(f"/v1/shipments/{shipment_id}/{action}", json={}))
    return check(await api.post(f"/v1/shipments/{shipment_id}/ship", json={"carrier": carrier, "service": "standard"}))


async def shipments_by_warehouse(api: httpx.AsyncClient, order_id: str) -> dict[str, dict[str, Any]]:
    body = check(await api.post(f"/v1/orders/{order_id}/shipments"), 201)
    return {s["warehouse"]: s for s in body["data"]}


async def invoice(api: httpx.AsyncClient, order_id: str, **body: Any) -> dict[str, Any]:
    return check(await api.post(f"/v1/orders/{order_id}/invoices", json=body), 201)


async def invoices_of(api: httpx.AsyncClient, order_id: str) -> list[dict[str, Any]]:
    listed = check(await api.get("/v1/invoices", params={"order_id": order_id}))
    return [check(await api.get(f"/v1/invoices/{i['id']}")) for i in listed["data"]]
