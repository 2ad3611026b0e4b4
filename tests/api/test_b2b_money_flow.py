"""The issue's end-to-end flow on terms, through HTTP on both databases: a quote is sent and accepted, the order it
becomes ships, the shipment is invoiced automatically, the customer pays by bank transfer, and every fact reaches
the journal, the trial balance, AR aging and the QuickBooks and Xero exports."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jsonschema_rs

from tests.support.factories import make_customer
from tests.support.invoicing import check, eur, invoicing_shop
from tests.support.payments import ship
from tests.support.vendor_schemas import QUICKBOOKS_EXPORT, XERO_EXPORT

PARIS = {"line1": "5 rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}


async def _business_customer(api: httpx.AsyncClient, limit: str = "1000.00") -> dict[str, Any]:
    return await make_customer(
        api,
        company="Buyer SARL",
        vat_id="FR40303265045",
        payment_terms={"kind": "net", "days": 30},
        credit_limit=eur(limit),
    )


async def _accepted_quote(api: httpx.AsyncClient, shop: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
    quote = check(
        await api.post(
            "/v1/quotes",
            json={
                "channel": shop["channel"],
                "customer_id": customer["id"],
                "shipping_address": PARIS,
                "lines": [
                    {"sku": shop["mug"], "quantity": 3, "unit_price": eur("8.00")},
                    {"sku": shop["tee"], "quantity": 2, "unit_price": eur("12.50")},
                ],
            },
        ),
        201,
    )
    check(await api.post(f"/v1/quotes/{quote['id']}/send", json={}))
    return check(await api.post(f"/v1/quotes/{quote['id']}/accept", json={}))


async def test_a_quote_on_terms_is_invoiced_as_it_ships_paid_by_transfer_and_posted(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api, policy="per_shipment", payment_policy="authorize_at_placement")
    customer = await _business_customer(api)

    accepted = await _accepted_quote(api, shop, customer)
    assert accepted["status"] == "accepted"
    order = check(await api.get(f"/v1/orders/{accepted['order_id']}"))
    assert order["status"] == "confirmed"
    assert order["payment_status"] == "on_terms"  # no card asked of a customer on terms
    assert order["customer_id"] == customer["id"]
    total = order["totals"]["grand_total"]

    shipments = check(await api.post(f"/v1/orders/{order['id']}/shipments"), 201)["data"]
    for shipment in shipments:
        await ship(api, shipment["id"], shop["carrier"])

    invoices = check(await api.get("/v1/invoices", params={"order_id": order["id"]}))["data"]
    assert len(invoices) == len(shipments)  # per_shipment: one invoice per shipment as it ships
    assert all(i["status"] == "issued" and i["number"].startswith(f"INV-{date.today().year}-") for i in invoices)
    assert sum(_cents(i["total"]) for i in invoices) == _cents(total)
    first = check(await api.get(f"/v1/invoices/{invoices[0]['id']}"))
    assert first["due_date"] == (date.fromisoformat(first["issue_date"]) + timedelta(days=30)).isoformat()
    assert first["buyer"]["vat_id"] == "FR40303265045"

    pdf = await api.get(f"/v1/invoices/{first['id']}/invoice.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    for fmt in ("cii", "ubl"):
        xml = await api.get(f"/v1/invoices/{first['id']}/invoice.xml", params={"format": fmt})
        assert xml.status_code == 200
        assert first["number"].encode() in xml.content

    for invoice in invoices:
        check(
            await api.post(
                f"/v1/invoices/{invoice['id']}/payments",
                json={"received_on": date.today().isoformat(), "reference": f"transfer {invoice['number']}"},
            ),
            201,
        )
    paid = check(await api.get("/v1/invoices", params={"order_id": order["id"]}))["data"]
    assert {i["status"] for i in paid} == {"paid"}

    entries = check(await api.get("/v1/accounting/journal-entries", params={"order_id": order["id"]}))["data"]
    assert {e["source_type"] for e in entries} >= {"invoice", "receipt"}
    trial = check(await api.get("/v1/accounting/trial-balance"))
    assert _balanced(trial)

    aging = check(await api.get("/v1/reports/ar-aging"))
    assert all(row["customer_id"] != customer["id"] for row in aging["customers"])  # nothing left open

    since = (date.today() - timedelta(days=1)).isoformat()
    until = (date.today() + timedelta(days=1)).isoformat()
    quickbooks = check(
        await api.get("/v1/accounting/exports", params={"since": since, "until": until, "format": "quickbooks"})
    )
    numbers = {i["number"] for i in invoices}
    _valid(QUICKBOOKS_EXPORT, quickbooks["payload"])  # the shapes Intuit's API reference documents
    assert numbers <= {doc["DocNumber"] for doc in _qb_invoices(quickbooks)}
    xero = check(await api.get("/v1/accounting/exports", params={"since": since, "until": until, "format": "xero"}))
    _valid(XERO_EXPORT, xero["payload"])  # the shapes Xero's accounting API documents
    assert numbers <= {doc["InvoiceNumber"] for doc in _xero_invoices(xero)}


async def test_an_order_past_the_credit_limit_waits_on_a_credit_hold_until_released(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api, policy="per_shipment", payment_policy="authorize_at_placement")
    customer = await _business_customer(api, limit="40.00")

    accepted = await _accepted_quote(api, shop, customer)  # 3 x 8.00 + 2 x 12.50 = 49.00 net: above 40.00
    order = check(await api.get(f"/v1/orders/{accepted['order_id']}"))
    assert order["status"] == "on_hold"
    assert order["hold_type"] == "credit"

    refused = await api.post(f"/v1/orders/{order['id']}/release-hold", json={})
    assert refused.status_code == 422, refused.text
    released = check(await api.post(f"/v1/orders/{order['id']}/release-hold", json={"reason": "approved by finance"}))
    assert released["status"] == "confirmed"


def _valid(schema: dict[str, Any], value: Any) -> None:
    errors = [e.message for e in jsonschema_rs.Draft202012Validator(schema).iter_errors(value)]
    assert not errors, errors


def _cents(money: dict[str, str]) -> int:
    return int(Decimal(money["amount"]) * 100)


def _balanced(trial: dict[str, Any]) -> bool:
    sides = [trial["base"], *trial["currencies"]]
    return all(side["debit"] == side["credit"] and Decimal(side["balance"]["amount"]) == 0 for side in sides)


def _qb_invoices(export: dict[str, Any]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = export["payload"]["Invoice"]
    return docs


def _xero_invoices(export: dict[str, Any]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = export["payload"]["Invoices"]
    return docs
