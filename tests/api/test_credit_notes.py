"""Credit notes through HTTP, on SQLite and PostgreSQL: units of lines pro rata, shipping, free amounts, their own
series, the limits of what remains uncredited, the invoice's status, and their documents."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests.support.factories import recorded_events
from tests.support.invoicing import check, eur, invoice, invoicing_shop, taxed_order

YEAR = date.today().year


def cn(n: int) -> str:
    return f"CN-{YEAR}-{n:06d}"


async def issued(api: httpx.AsyncClient) -> dict[str, Any]:
    """An issued invoice of 3 mugs (29.00 + 5.51 tax), a tee (7.00 + 0.49) and shipping (4.90 + 0.93): 47.83."""
    shop = await invoicing_shop(api)
    return await invoice(api, (await taxed_order(api, shop))["id"])


async def credit(api: httpx.AsyncClient, invoice_id: str, **body: Any) -> httpx.Response:
    return await api.post(f"/v1/invoices/{invoice_id}/credit-notes", json={"reason": "returned", **body})


async def test_units_of_a_line_are_credited_pro_rata_and_the_last_ones_take_the_remainder(
    api: httpx.AsyncClient, database_url: str
) -> None:
    inv = await issued(api)
    mugs = inv["lines"][0]["id"]
    made = await credit(api, inv["id"], lines=[{"invoice_line_id": mugs, "quantity": 1}])
    first = check(made, 201)
    assert made.headers["Location"] == f"/v1/credit-notes/{first['id']}"
    assert first["number"] == cn(1)
    assert first["invoice_number"] == inv["number"]
    assert (first["subtotal"], first["tax"], first["total"]) == (eur("9.67"), eur("1.84"), eur("11.51"))
    assert [(x["kind"], x["invoice_line_id"], x["quantity"]) for x in first["lines"]] == [("item", mugs, 1)]
    assert first["reason"] == "returned"

    rest = check(await credit(api, inv["id"], lines=[{"invoice_line_id": mugs, "quantity": 2}]), 201)
    assert rest["number"] == cn(2)
    assert (rest["subtotal"], rest["tax"]) == (eur("19.33"), eur("3.67"))  # 29.00 and 5.51 in all

    over = await credit(api, inv["id"], lines=[{"invoice_line_id": mugs, "quantity": 1}])
    assert over.status_code == 422
    assert over.json()["errors"][0]["code"] == "credit_exceeds_invoice"
    assert over.json()["errors"][0]["pointer"] == "/body/lines/0/quantity"

    after = check(await api.get(f"/v1/invoices/{inv['id']}"))
    assert after["credited"] == eur("34.51")
    assert after["amount_due"] == eur("13.32")
    assert after["status"] == "issued"
    listed = check(await api.get(f"/v1/invoices/{inv['id']}/credit-notes"))
    assert [n["number"] for n in listed["data"]] == [cn(1), cn(2)]
    events = await recorded_events(database_url, first["id"])
    assert [e["type"] for e in events] == ["credit_note.issued"]


async def test_crediting_shipping_and_the_rest_marks_the_invoice_credited(
    api: httpx.AsyncClient, database_url: str
) -> None:
    inv = await issued(api)
    mugs, tee = inv["lines"][0]["id"], inv["lines"][1]["id"]
    shipping = check(await credit(api, inv["id"], shipping=True), 201)
    assert (shipping["shipping"], shipping["tax"], shipping["total"]) == (eur("4.90"), eur("0.93"), eur("5.83"))
    again = await credit(api, inv["id"], shipping=True)
    assert again.status_code == 422
    lines = [{"invoice_line_id": mugs, "quantity": 3}, {"invoice_line_id": tee, "quantity": 1}]
    rest = check(await credit(api, inv["id"], lines=lines), 201)
    assert rest["total"] == eur("42.00")
    done = check(await api.get(f"/v1/invoices/{inv['id']}"))
    assert (done["status"], done["amount_due"]) == ("credited", eur("0.00"))
    types = [e["type"] for e in await recorded_events(database_url, inv["id"])]
    assert types[-1] == "invoice.credited"


async def test_a_free_amount_is_credited_at_one_of_the_invoices_rates_within_what_remains(
    api: httpx.AsyncClient,
) -> None:
    inv = await issued(api)
    goodwill = check(await credit(api, inv["id"], amount=eur("5.00"), tax_rate="0.07"), 201)
    assert [(x["kind"], x["net"], x["tax"], x["tax_rate"]) for x in goodwill["lines"]] == [
        ("amount", eur("4.67"), eur("0.33"), "0.07")
    ]
    assert [(g["rate"], g["taxable"], g["tax"]) for g in goodwill["tax_breakdown"]] == [
        ("0.07", eur("4.67"), eur("0.33"))
    ]
    foreign_rate = await credit(api, inv["id"], amount=eur("1.00"), tax_rate="0.2")
    assert foreign_rate.status_code == 422
    assert foreign_rate.json()["errors"][0]["pointer"] == "/body/tax_rate"
    too_much = await credit(api, inv["id"], amount=eur("42.84"), tax_rate="0.19")
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["code"] == "credit_exceeds_invoice"
    all_of_it = check(await credit(api, inv["id"], amount=eur("42.83"), tax_rate="0.19"), 201)
    assert all_of_it["total"] == eur("42.83")


async def test_credit_notes_are_refused_for_drafts_and_for_bodies_that_say_nothing(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    draft = await invoice(api, (await taxed_order(api, shop))["id"], draft=True)
    refused = await credit(api, draft["id"], shipping=True)
    assert (refused.status_code, refused.json()["code"]) == (409, "invoice_draft")
    inv = await invoice(api, (await taxed_order(api, shop))["id"])
    assert (await credit(api, inv["id"])).status_code == 422
    no_reason = await api.post(f"/v1/invoices/{inv['id']}/credit-notes", json={"shipping": True})
    assert no_reason.status_code == 422
    both = await credit(api, inv["id"], shipping=True, amount=eur("1.00"), tax_rate="0.19")
    assert both.status_code == 422
    stranger = await credit(api, inv["id"], lines=[{"invoice_line_id": draft["lines"][0]["id"], "quantity": 1}])
    assert stranger.status_code == 422
    assert stranger.json()["errors"][0]["pointer"] == "/body/lines/0/invoice_line_id"
    missing = await api.get("/v1/credit-notes/00000000-0000-7000-8000-000000000000")
    assert (missing.status_code, missing.json()["code"]) == (404, "credit_note_not_found")


async def test_a_credit_note_is_served_as_pdf_and_xml_naming_the_invoice_it_corrects(api: httpx.AsyncClient) -> None:
    inv = await issued(api)
    note = check(await credit(api, inv["id"], shipping=True), 201)
    assert check(await api.get(f"/v1/credit-notes/{note['id']}")) == note
    pdf = await api.get(f"/v1/credit-notes/{note['id']}/credit-note.pdf", params={"facturx": "false"})
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF")
    assert (await api.get(f"/v1/credit-notes/{note['id']}/credit-note.pdf")).status_code == 200
    for fmt in ("cii", "ubl"):
        xml = await api.get(f"/v1/credit-notes/{note['id']}/credit-note.xml", params={"format": fmt})
        assert xml.status_code == 200, xml.text
        assert note["number"].encode() in xml.content
        assert inv["number"].encode() in xml.content
