"""Receivables through HTTP, on SQLite and PostgreSQL: gateway money matched to invoices, bank transfers recorded
against an invoice, write-offs, and the refusals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.support.factories import place_order, recorded_events
from tests.support.invoicing import check, eur, invoice, invoicing_shop, make_entity, taxed_order
from tests.support.payments import APPROVE, paying_shop


async def pay(api: httpx.AsyncClient, invoice_id: str, **body: Any) -> httpx.Response:
    return await api.post(f"/v1/invoices/{invoice_id}/payments", json={"received_on": date.today().isoformat(), **body})


async def invoice_events(database_url: str, invoice_id: str) -> list[str]:
    return [e["type"] for e in await recorded_events(database_url, invoice_id)]


async def test_a_bank_transfer_pays_an_invoice_in_part_then_in_full(api: httpx.AsyncClient, database_url: str) -> None:
    shop = await invoicing_shop(api)
    issued = await invoice(api, (await taxed_order(api, shop))["id"])
    assert issued["amount_due"] == eur("47.83")

    part = await pay(api, issued["id"], amount=eur("20.00"), reference="SEPA 0815", external_id="stmt-1")
    receipt = check(part, 201)
    assert (receipt["kind"], receipt["source"], receipt["amount"], receipt["allocated"]) == (
        "payment",
        "bank_transfer",
        eur("20.00"),
        eur("20.00"),
    )
    assert receipt["base_amount"] == eur("20.00")
    again = check(await pay(api, issued["id"], amount=eur("20.00"), external_id="stmt-1"), 201)
    assert again["id"] == receipt["id"]

    listed = check(await api.get(f"/v1/invoices/{issued['id']}/payments"))
    assert (listed["status"], listed["amount_due"], listed["paid"]) == ("partially_paid", eur("27.83"), eur("20.00"))
    assert [r["id"] for r in listed["data"]] == [receipt["id"]]

    rest = check(await pay(api, issued["id"]), 201)
    assert rest["amount"] == eur("27.83")
    after = check(await api.get(f"/v1/invoices/{issued['id']}"))
    assert (after["status"], after["amount_due"]) == ("paid", eur("0.00"))
    assert (await invoice_events(database_url, issued["id"]))[-2:] == ["invoice.partially_paid", "invoice.paid"]

    settled = await pay(api, issued["id"], amount=eur("1.00"))
    assert (settled.status_code, settled.json()["code"]) == (409, "invoice_settled")


async def test_bank_transfers_are_refused_when_they_do_not_fit(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    issued = await invoice(api, (await taxed_order(api, shop))["id"])
    too_much = await pay(api, issued["id"], amount=eur("47.84"))
    assert (too_much.status_code, too_much.json()["errors"][0]["code"]) == (422, "amount_exceeds_due")
    dollars = await pay(api, issued["id"], amount={"amount": "1.00", "currency": "USD"})
    assert dollars.json()["errors"][0]["pointer"] == "/body/amount/currency"
    future = await pay(api, issued["id"], received_on=(date.today() + timedelta(days=1)).isoformat())
    assert future.json()["errors"][0]["pointer"] == "/body/received_on"
    zero = await pay(api, issued["id"], amount=eur("0.00"))
    assert zero.status_code == 422
    unknown = await pay(api, "0190f1f0-0000-7000-8000-000000000000")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "invoice_not_found")
    draft = await invoice(api, (await taxed_order(api, shop))["id"], draft=True)
    refused = await pay(api, draft["id"])
    assert (refused.status_code, refused.json()["code"]) == (409, "invoice_not_issued")


async def test_a_write_off_settles_what_is_due(api: httpx.AsyncClient, database_url: str) -> None:
    shop = await invoicing_shop(api)
    issued = await invoice(api, (await taxed_order(api, shop))["id"])
    check(await pay(api, issued["id"], amount=eur("40.00")), 201)
    no_reason = await api.post(f"/v1/invoices/{issued['id']}/write-off", json={"reason": " "})
    assert no_reason.status_code == 422
    written = check(await api.post(f"/v1/invoices/{issued['id']}/write-off", json={"reason": "customer insolvent"}))
    assert (written["status"], written["amount_due"]) == ("paid", eur("0.00"))
    events = await recorded_events(database_url, issued["id"])
    assert events[-1]["type"] == "invoice.written_off"
    again = await api.post(f"/v1/invoices/{issued['id']}/write-off", json={"reason": "twice"})
    assert (again.status_code, again.json()["code"]) == (409, "invoice_settled")


async def test_gateway_money_captured_at_placement_pays_the_invoice_when_it_is_issued(
    api: httpx.AsyncClient, database_url: str
) -> None:
    await make_entity(api, is_default=True)
    shop = await paying_shop(api, "capture_at_placement")
    order = await place_order(api, shop["channel"], [(shop["mug"], 2), (shop["tee"], 1)], payment={"method": APPROVE})
    assert order["payment_status"] == "paid"
    issued = await invoice(api, order["id"])
    assert (issued["status"], issued["amount_due"]) == ("paid", eur("0.00"))
    [receipt] = check(await api.get(f"/v1/invoices/{issued['id']}/payments"))["data"]
    assert (receipt["source"], receipt["allocated"]) == ("gateway", eur("30.00"))
    assert receipt["payment_transaction_id"] is not None

    [payment] = check(await api.get(f"/v1/orders/{order['id']}/payments"))["data"]
    refunded = await api.post(
        f"/v1/payments/{payment['id']}/refund", json={"reason": "a mug broke", "amount": eur("10.00")}
    )
    assert refunded.status_code == 200, refunded.text
    after = check(await api.get(f"/v1/invoices/{issued['id']}/payments"))
    assert (after["status"], after["amount_due"], after["paid"]) == ("partially_paid", eur("10.00"), eur("20.00"))
    assert [(r["kind"], r["allocated"]) for r in after["data"]] == [
        ("payment", eur("30.00")),
        ("refund", eur("10.00")),
    ]
    assert (await invoice_events(database_url, issued["id"]))[-1] == "invoice.partially_paid"


async def test_a_capture_after_issue_pays_the_oldest_invoice_first(api: httpx.AsyncClient) -> None:
    await make_entity(api, is_default=True)
    shop = await paying_shop(api, "authorize_at_placement")
    order = await place_order(api, shop["channel"], [(shop["mug"], 2), (shop["tee"], 1)], payment={"method": APPROVE})
    issued = await invoice(api, order["id"])
    assert (issued["status"], issued["amount_due"]) == ("issued", eur("30.00"))
    [payment] = check(await api.get(f"/v1/orders/{order['id']}/payments"))["data"]
    captured = await api.post(f"/v1/payments/{payment['id']}/capture", json={"amount": eur("12.00")})
    assert captured.status_code == 200, captured.text
    after = check(await api.get(f"/v1/invoices/{issued['id']}"))
    assert (after["status"], after["amount_due"]) == ("partially_paid", eur("18.00"))


async def test_a_refund_before_the_invoice_is_netted_when_it_is_issued(api: httpx.AsyncClient) -> None:
    await make_entity(api, is_default=True)
    shop = await paying_shop(api, "capture_at_placement")
    order = await place_order(api, shop["channel"], [(shop["mug"], 2), (shop["tee"], 1)], payment={"method": APPROVE})
    [payment] = check(await api.get(f"/v1/orders/{order['id']}/payments"))["data"]
    refunded = await api.post(
        f"/v1/payments/{payment['id']}/refund", json={"reason": "goodwill", "amount": eur("10.00")}
    )
    assert refunded.status_code == 200, refunded.text
    issued = await invoice(api, order["id"])
    assert (issued["status"], issued["amount_due"]) == ("partially_paid", eur("10.00"))
    [receipt] = check(await api.get(f"/v1/invoices/{issued['id']}/payments"))["data"]
    assert (receipt["kind"], receipt["allocated"]) == ("payment", eur("20.00"))
