"""Invoices through HTTP, on SQLite and PostgreSQL: invoicing an order or a shipment, the channel's invoice policy,
drafts, numbers, the list and its filters, base-currency totals, the documents, and the API's refusals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from facturx import get_xml_from_pdf

from oms_api.kit.auth import Scope
from tests.conftest import KeyMaker
from tests.support.factories import recorded_events
from tests.support.invoicing import (
    check,
    eur,
    invoice,
    invoices_of,
    invoicing_shop,
    ship,
    shipments_by_warehouse,
    taxed_order,
)

YEAR = date.today().year


def number(n: int) -> str:
    return f"INV-{YEAR}-{n:06d}"


def cents(money: dict[str, str]) -> int:
    return round(float(money["amount"]) * 100)


async def test_an_order_is_invoiced_whole_with_its_shipping_tax_breakdown_and_seller(
    api: httpx.AsyncClient, database_url: str
) -> None:
    shop = await invoicing_shop(api)
    order = await taxed_order(api, shop)
    assert order["totals"]["grand_total"] == eur("47.83")

    made = await api.post(f"/v1/orders/{order['id']}/invoices", json={})
    body = check(made, 201)
    assert made.headers["Location"] == f"/v1/invoices/{body['id']}"
    assert body["status"] == "issued"
    assert body["number"] == number(1)
    assert body["issue_date"] == body["due_date"] == date.today().isoformat()
    assert (body["subtotal"], body["shipping"], body["tax"], body["total"]) == (
        eur("36.00"),
        eur("4.90"),
        eur("6.93"),
        eur("47.83"),
    )
    assert body["amount_due"] == eur("47.83")
    assert [
        (x["kind"], x["quantity"], x["unit_price"], x["discount"], x["net"], x["tax_rate"], x["tax"])
        for x in body["lines"]
    ] == [
        ("item", 3, eur("10.00"), eur("1.00"), eur("29.00"), "0.19", eur("5.51")),
        ("item", 1, eur("7.00"), eur("0.00"), eur("7.00"), "0.07", eur("0.49")),
        ("shipping", 1, eur("4.90"), eur("0.00"), eur("4.90"), "0.19", eur("0.93")),
    ]
    assert [(g["rate"], g["taxable"], g["tax"]) for g in body["tax_breakdown"]] == [
        ("0.07", eur("7.00"), eur("0.49")),
        ("0.19", eur("33.90"), eur("6.44")),
    ]
    assert body["seller"]["vat_id"] == "DE136695976"
    assert body["seller"]["name"] == "ACME GmbH"
    assert body["buyer"]["address"]["city"] == "Berlin"
    assert body["base_currency"] == "EUR"
    assert body["base"]["total"] == eur("47.83")

    again = await api.post(f"/v1/orders/{order['id']}/invoices", json={})
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_to_invoice"

    got = await api.get(f"/v1/invoices/{body['id']}")
    assert got.headers["ETag"] == f'"{body["version"]}"'
    assert check(got)["lines"] == body["lines"]
    events = await recorded_events(database_url, body["id"])
    assert [e["type"] for e in events] == ["invoice.issued"]
    assert events[0]["data"]["number"] == number(1)


async def test_per_shipment_policy_invoices_each_shipment_and_the_invoices_add_up_to_the_order(
    api: httpx.AsyncClient,
) -> None:
    shop = await invoicing_shop(api, policy="per_shipment")
    order = await taxed_order(api, shop)
    shipments = await shipments_by_warehouse(api, order["id"])
    await ship(api, shipments[shop["big"]]["id"], shop["carrier"])
    [first] = await invoices_of(api, order["id"])
    assert first["shipment_id"] == shipments[shop["big"]]["id"]
    assert first["number"] == number(1)
    assert [x["kind"] for x in first["lines"]] == ["item", "shipping"]  # the shipping goes on the first invoice
    assert first["total"] == eur("40.34")

    await ship(api, shipments[shop["small"]]["id"], shop["carrier"])
    both = await invoices_of(api, order["id"])
    assert [i["number"] for i in both] == [number(1), number(2)]
    assert both[1]["total"] == eur("7.49")
    assert sum(cents(i["total"]) for i in both) == cents(order["totals"]["grand_total"])
    assert sum(cents(i["tax"]) for i in both) == cents(order["totals"]["tax_total"])

    by_hand = await api.post(f"/v1/orders/{order['id']}/invoices", json={})
    assert by_hand.json()["code"] == "nothing_to_invoice"


async def test_per_order_policy_invoices_once_nothing_is_left_to_ship(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api, policy="per_order")
    order = await taxed_order(api, shop)
    shipments = await shipments_by_warehouse(api, order["id"])
    await ship(api, shipments[shop["big"]]["id"], shop["carrier"])
    assert await invoices_of(api, order["id"]) == []
    await ship(api, shipments[shop["small"]]["id"], shop["carrier"])
    [whole] = await invoices_of(api, order["id"])
    assert whole["shipment_id"] is None
    assert whole["total"] == eur("47.83")


async def test_manual_policy_invoices_a_shipment_by_hand_once_it_shipped(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    order = await taxed_order(api, shop)
    shipments = await shipments_by_warehouse(api, order["id"])
    small = shipments[shop["small"]]["id"]

    early = await api.post(f"/v1/orders/{order['id']}/invoices", json={"shipment_id": small})
    assert (early.status_code, early.json()["code"]) == (409, "shipment_not_shipped")
    await ship(api, small, shop["carrier"])
    assert await invoices_of(api, order["id"]) == []  # manual: shipping issues nothing

    tee = await invoice(api, order["id"], shipment_id=small)
    assert [x["kind"] for x in tee["lines"]] == ["item", "shipping"]
    twice = await api.post(f"/v1/orders/{order['id']}/invoices", json={"shipment_id": small})
    assert (twice.status_code, twice.json()["code"]) == (409, "shipment_invoiced")
    rest = await invoice(api, order["id"])  # the rest of the order: the mugs, no shipping again
    assert [x["kind"] for x in rest["lines"]] == ["item"]
    assert cents(tee["total"]) + cents(rest["total"]) == cents(order["totals"]["grand_total"])

    foreign = await api.post(
        f"/v1/orders/{order['id']}/invoices", json={"shipment_id": "00000000-0000-7000-8000-000000000000"}
    )
    assert foreign.status_code == 422
    assert foreign.json()["errors"][0]["pointer"] == "/body/shipment_id"


async def test_a_draft_takes_its_number_only_when_issued_and_only_a_draft_can_be_deleted(
    api: httpx.AsyncClient, database_url: str
) -> None:
    shop = await invoicing_shop(api)
    first_order = await taxed_order(api, shop)
    second_order = await taxed_order(api, shop)

    draft = await invoice(api, first_order["id"], draft=True)
    assert (draft["status"], draft["number"], draft["issue_date"]) == ("draft", None, None)
    assert (await api.get(f"/v1/invoices/{draft['id']}/invoice.pdf")).json()["code"] == "invoice_draft"
    other = await invoice(api, second_order["id"])
    assert other["number"] == number(1)  # the draft took no number

    issued = check(await api.post(f"/v1/invoices/{draft['id']}/issue"))
    assert (issued["status"], issued["number"]) == ("issued", number(2))
    assert issued["version"] > draft["version"]
    reissued = await api.post(f"/v1/invoices/{draft['id']}/issue")
    assert (reissued.status_code, reissued.json()["code"]) == (409, "invoice_issued")
    refused = await api.delete(f"/v1/invoices/{draft['id']}")
    assert (refused.status_code, refused.json()["code"]) == (409, "invoice_issued")
    assert [e["type"] for e in await recorded_events(database_url, draft["id"])] == [
        "invoice.drafted",
        "invoice.issued",
    ]

    third_order = await taxed_order(api, shop)
    dropped = await invoice(api, third_order["id"], draft=True)
    blocked = await api.post(f"/v1/orders/{third_order['id']}/invoices", json={})
    assert blocked.json()["code"] == "nothing_to_invoice"  # the draft holds the units
    assert (await api.delete(f"/v1/invoices/{dropped['id']}")).status_code == 204
    assert (await api.get(f"/v1/invoices/{dropped['id']}")).status_code == 404
    assert (await invoice(api, third_order["id"]))["number"] == number(3)


async def test_a_channel_whose_legal_entity_does_not_exist_cannot_invoice(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api, legal_entity="nobody")
    order = await taxed_order(api, shop)
    refused = await api.post(f"/v1/orders/{order['id']}/invoices", json={})
    assert (refused.status_code, refused.json()["code"]) == (409, "legal_entity_missing")
    missing = await api.post("/v1/orders/00000000-0000-7000-8000-000000000000/invoices", json={})
    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")


async def test_invoices_list_by_status_order_customer_and_due_date_page_by_page(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    customer = check(await api.post("/v1/customers", json={"email": "b2b@example.com", "first_name": "Grace"}), 201)
    orders = [await taxed_order(api, shop, customer={"id": customer["id"]}) for _ in range(3)]
    made = [await invoice(api, o["id"]) for o in orders[:2]]
    draft = await invoice(api, orders[2]["id"], draft=True)

    page1 = check(await api.get("/v1/invoices", params={"limit": 2}))
    assert page1["has_more"] is True
    page2 = check(await api.get("/v1/invoices", params={"limit": 2, "cursor": page1["next_cursor"]}))
    assert [i["id"] for i in page1["data"] + page2["data"]] == [made[0]["id"], made[1]["id"], draft["id"]]

    drafts = check(await api.get("/v1/invoices", params={"status": "draft"}))
    assert [i["id"] for i in drafts["data"]] == [draft["id"]]
    by_order = check(await api.get("/v1/invoices", params={"order_id": orders[1]["id"]}))
    assert [i["id"] for i in by_order["data"]] == [made[1]["id"]]
    by_customer = check(await api.get("/v1/invoices", params={"customer_id": customer["id"], "status": "issued"}))
    assert [i["id"] for i in by_customer["data"]] == [made[0]["id"], made[1]["id"]]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    due = check(await api.get("/v1/invoices", params={"due_before": tomorrow}))
    assert [i["id"] for i in due["data"]] == [made[0]["id"], made[1]["id"]]
    assert check(await api.get("/v1/invoices", params={"due_before": date.today().isoformat()}))["data"] == []


async def test_an_invoice_in_another_currency_carries_base_totals_at_the_rate_of_the_day(
    api: httpx.AsyncClient,
) -> None:
    shop = await invoicing_shop(api)
    usd: dict[str, Any] = {"currency": "USD", "shipping_price": {"amount": "4.90", "currency": "USD"}}
    usd["shipping_tax"] = {"amount": "0.93", "currency": "USD"}
    lines = [
        {"sku": shop["mug"], "quantity": 2, "unit_price": {"amount": "10.00", "currency": "USD"}, "tax_rate": "0.19"}
    ]
    without_rate = await taxed_order(api, shop, lines=lines, **usd)
    unconverted = await invoice(api, without_rate["id"])
    assert (unconverted["base_currency"], unconverted["base"]) == (None, None)

    rate = {"base": "USD", "quote": "EUR", "rate": "0.9", "rate_date": date.today().isoformat()}
    check(await api.post("/v1/fx-rates", json=[rate]), 201)
    with_rate = await taxed_order(api, shop, lines=lines, **usd)
    converted = await invoice(api, with_rate["id"])
    assert converted["total"] == {"amount": "29.63", "currency": "USD"}
    assert converted["base_currency"] == "EUR"
    assert converted["base"]["total"] == eur("26.67")
    assert converted["base"]["tax"] == eur("4.26")
    assert converted["base"]["fx_rate_date"] == date.today().isoformat()


async def test_the_invoice_documents_are_served_as_pdf_and_xml(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    made = await invoice(api, (await taxed_order(api, shop))["id"])
    plain = await api.get(f"/v1/invoices/{made['id']}/invoice.pdf", params={"facturx": "false"})
    assert plain.status_code == 200, plain.text
    assert plain.headers["content-type"] == "application/pdf"
    assert plain.content.startswith(b"%PDF")
    facturx = await api.get(f"/v1/invoices/{made['id']}/invoice.pdf")
    assert facturx.status_code == 200, facturx.text
    filename, embedded = get_xml_from_pdf(facturx.content, check_xsd=False)
    assert filename == "factur-x.xml"
    assert made["number"].encode() in embedded
    cii = await api.get(f"/v1/invoices/{made['id']}/invoice.xml")
    assert cii.status_code == 200, cii.text
    assert made["number"].encode() in cii.content
    assert b"CrossIndustryInvoice" in cii.content
    ubl = await api.get(f"/v1/invoices/{made['id']}/invoice.xml", params={"format": "ubl"})
    assert ubl.status_code == 200, ubl.text
    assert b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" in ubl.content


async def test_reading_invoices_takes_invoices_read_and_issuing_invoices_write(
    api: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    shop = await invoicing_shop(api)
    order = await taxed_order(api, shop)
    reader = {"Authorization": f"Bearer {await make_key(Scope.INVOICES_READ.value)}"}
    refused = await api.post(f"/v1/orders/{order['id']}/invoices", json={}, headers=reader)
    assert refused.status_code == 403
    assert (await api.get("/v1/invoices", headers=reader)).status_code == 200
    writer = {"Authorization": f"Bearer {await make_key(Scope.INVOICES_WRITE.value)}"}
    assert (await api.post(f"/v1/orders/{order['id']}/invoices", json={}, headers=writer)).status_code == 201


async def test_a_business_customers_invoice_carries_its_company_vat_id_and_terms(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    terms = {"kind": "net", "days": 30, "discount_percent": "2", "discount_days": 10}
    customer = check(
        await api.post(
            "/v1/customers",
            json={
                "email": "ap@buyer.example",
                "company": "Buyer SA",
                "vat_id": "FR40303265045",
                "payment_terms": terms,
            },
        ),
        201,
    )
    billing = {"line1": "2 Rue X", "city": "Paris", "postal_code": "75001", "country": "FR"}
    order = await taxed_order(api, shop, customer={"id": customer["id"]}, billing_address=billing)
    made = await invoice(api, order["id"])
    assert made["due_date"] == (date.today() + timedelta(days=30)).isoformat()
    assert made["payment_terms"]["kind"] == "net"
    assert (made["buyer"]["company"], made["buyer"]["vat_id"]) == ("Buyer SA", "FR40303265045")
    assert made["buyer"]["address"]["city"] == "Paris"  # the billing address, not the shipping one
    assert made["customer_id"] == customer["id"]


async def test_a_tax_inclusive_order_is_invoiced_net_with_the_same_total(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    lines = [{"sku": shop["mug"], "quantity": 3, "unit_price": eur("11.90"), "tax_rate": "0.19"}]
    order = await taxed_order(api, shop, lines=lines, prices_include_tax=True, shipping_tax=eur("0.78"))
    made = await invoice(api, order["id"])
    item, shipping = made["lines"]
    assert (item["net"], item["tax"], item["total"]) == (eur("30.00"), eur("5.70"), eur("35.70"))
    assert (shipping["net"], shipping["tax"], shipping["total"]) == (eur("4.12"), eur("0.78"), eur("4.90"))
    assert made["total"] == order["totals"]["grand_total"] == eur("40.60")
    assert made["prices_include_tax"] is True


async def test_an_order_paid_at_placement_is_invoiced_paid(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api, payment_policy="capture_at_placement", payment_gateway="test")
    order = await taxed_order(api, shop, payment={"method": "4242424242424242"})
    assert order["payment_status"] == "paid"
    made = await invoice(api, order["id"])
    assert (made["status"], made["paid"], made["amount_due"]) == ("paid", eur("47.83"), eur("0.00"))
