"""The accounting journal through HTTP, on SQLite and PostgreSQL: the chart of accounts, entries posted from the
financial facts of other contexts (published on the bus as their owners publish them), FX differences, manual
entries, reversals and the trial balance."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx

from oms_api.invoices.events import InvoiceWrittenOff, ReceiptRecorded
from oms_api.kit.auth import Scope
from tests.conftest import KeyMaker
from tests.support.accounting import assert_zero, entries, issued, line_map, moved, publish, trial_balance
from tests.support.invoice_documents import MIXED, credit_note, document
from tests.support.invoicing import eur, invoice, invoicing_shop, ship, shipments_by_warehouse, taxed_order
from tests.support.payments import APPROVE, order_payments


def check(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the chart of accounts -----------------------------------------------------------------------------------------


async def test_the_default_chart_exists_from_the_first_read_and_accounts_can_be_added_and_mapped(
    api: httpx.AsyncClient,
) -> None:
    chart = check(await api.get("/v1/accounting/accounts"))["data"]
    roles = {a["role"]: a["code"] for a in chart}
    assert roles == {
        "receivables": "1200",
        "revenue": "4000",
        "shipping_revenue": "4100",
        "refunds_returns": "4900",
        "write_offs": "6900",
        "fx_gain": "7900",
        "fx_loss": "8900",
    }
    again = check(await api.get("/v1/accounting/accounts"))["data"]
    assert len(again) == len(chart)

    made = check(await api.post("/v1/accounting/accounts", json={"code": "1000", "name": "Bank", "type": "asset"}), 201)
    assert made["role"] is None
    assert made["active"] is True
    duplicate = await api.post("/v1/accounting/accounts", json={"code": "1000", "name": "Bank 2", "type": "asset"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "account_exists"

    seven = check(
        await api.post(
            "/v1/accounting/accounts",
            json={"code": "2270", "name": "VAT 7 %", "type": "liability", "role": "tax_payable", "qualifier": "7"},
        ),
        201,
    )
    assert seven["qualifier"] == "7"

    renamed = check(
        await api.patch(
            "/v1/accounting/accounts/4000",
            json={"name": "Merchandise sales", "code": "4010", "xero_code": "200", "quickbooks_account": "79"},
        )
    )
    assert (renamed["code"], renamed["name"], renamed["xero_code"], renamed["quickbooks_account"]) == (
        "4010",
        "Merchandise sales",
        "200",
        "79",
    )
    taken = await api.patch("/v1/accounting/accounts/4010", json={"code": "1000"})
    assert taken.status_code == 409
    assert (await api.patch("/v1/accounting/accounts/nope", json={"name": "x"})).status_code == 404


async def test_accounting_scopes(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    reader = {"Authorization": f"Bearer {await make_key(Scope.ACCOUNTING_READ.value)}"}
    assert (await client.get("/v1/accounting/accounts", headers=reader)).status_code == 200
    assert (await client.get("/v1/accounting/trial-balance", headers=reader)).status_code == 200
    refused = await client.post(
        "/v1/accounting/accounts", headers=reader, json={"code": "1000", "name": "Bank", "type": "asset"}
    )
    assert refused.status_code == 403
    other = {"Authorization": f"Bearer {await make_key(Scope.ORDERS_READ.value)}"}
    assert (await client.get("/v1/accounting/journal-entries", headers=other)).status_code == 403


# --- postings --------------------------------------------------------------------------------------------------------


async def test_an_invoice_in_a_foreign_currency_settled_at_another_rate_leaves_an_fx_difference(
    api: httpx.AsyncClient, database_url: str
) -> None:
    order_id, customer_id = uuid.uuid4(), uuid.uuid4()
    doc = document(currency="USD", base_currency="EUR", fx_rate="0.92")
    event = issued(doc, order_id=order_id, customer_id=customer_id)
    await publish(database_url, event)
    await publish(database_url, event)  # replayed: posts nothing more

    posted = await entries(api, order_id=str(order_id))
    assert [e["source_type"] for e in posted] == ["invoice"]
    entry = posted[0]
    assert entry["currency"] == "USD"
    assert entry["fx_rate"] == "0.92"
    assert not entry["base_pending"]
    lines = line_map(entry)
    assert lines["1200"] == (doc.grand_total.amount.to_eng_string(), "0.00")
    assert lines["4000"][1] == str(sum(line.net.amount for line in doc.lines if line.kind.value != "shipping"))
    assert lines["4100"] == ("0.00", "5.90")
    assert {"2200-19", "2200-7"} <= set(lines)
    assert "2200-0" not in lines  # no tax at 0 %: no line of nothing
    receivables = next(line for line in entry["lines"] if line["account"] == "1200")
    assert receivables["base_debit"]["amount"] == str(doc.base.total.amount)  # type: ignore[union-attr]
    assert receivables["order_id"] == str(order_id)
    assert receivables["customer_id"] == str(customer_id)
    assert entry["invoice_id"] == str(event.invoice_id)

    # Paid in full at 0.95: more euros came in than were booked, an FX gain.
    total = doc.grand_total.minor
    base_paid = round(total * 95 / 100)
    await publish(database_url, moved(order_id, total, "USD", base_amount_minor=base_paid, fx_rate="0.95"))
    posted = await entries(api, order_id=str(order_id))
    assert [e["source_type"] for e in posted] == ["invoice", "payment_capture", "fx_revaluation"]
    capture, fx = posted[1], posted[2]
    assert line_map(capture)["1100-stripe"] == (str(doc.grand_total.amount), "0.00")
    gain = base_paid - doc.base.total.minor  # type: ignore[union-attr]
    fx_lines = {line["account"]: line for line in fx["lines"]}
    assert fx_lines["7900"]["base_credit"]["amount"] == f"{gain / 100:.2f}"
    assert fx_lines["7900"]["credit"]["amount"] == "0.00"

    balance = await trial_balance(api)
    assert_zero(balance)
    receivable_rows = [row for row in balance["accounts"] if row["account"] == "1200"]
    assert [(r["balance"]["amount"], r["base_balance"]["amount"]) for r in receivable_rows] == [("0.00", "0.00")]


async def test_credit_notes_receipts_refunds_and_write_offs_post_and_the_trial_balance_stays_zero(
    api: httpx.AsyncClient, database_url: str
) -> None:
    order_id = uuid.uuid4()
    invoice_event = issued(document(), order_id=order_id)
    note = issued(credit_note(), order_id=order_id)
    note = replace(note, invoice_id=invoice_event.invoice_id)
    total = invoice_event.document.grand_total.minor
    credited = note.document.grand_total.minor
    receipt = ReceiptRecorded(
        receipt_id=uuid.uuid4(),
        invoice_id=invoice_event.invoice_id,
        order_id=order_id,
        customer_id=None,
        source="bank_transfer",
        amount_minor=10_000,
        currency="EUR",
        base_currency="EUR",
        base_amount_minor=10_000,
        fx_rate="1",
        received_on=invoice_event.document.issue_date,
        reference="SEPA 4711",
        actor="test",
    )
    await publish(database_url, invoice_event, note, receipt)
    await publish(database_url, moved(order_id, 5_000, "EUR", gateway="test"))
    await publish(database_url, moved(order_id, 2_000, "EUR", gateway="test", kind="refund"))
    left = total - credited - 10_000 - 5_000 + 2_000
    written = InvoiceWrittenOff(
        invoice_id=invoice_event.invoice_id,
        order_id=order_id,
        customer_id=None,
        amount_minor=left,
        currency="EUR",
        base_currency="EUR",
        base_amount_minor=left,
        fx_rate="1",
        reason="Customer insolvent",
        actor="test",
    )
    await publish(database_url, written)

    posted = {e["source_type"]: e for e in await entries(api, order_id=str(order_id))}
    assert set(posted) == {"invoice", "credit_note", "receipt", "payment_capture", "payment_refund", "write_off"}
    credit_lines = line_map(posted["credit_note"])
    assert credit_lines["4900"] == ("449.10", "0.00")
    assert credit_lines["2200-19"] == ("85.33", "0.00")
    assert credit_lines["1200"] == ("0.00", "534.43")
    assert line_map(posted["receipt"])["1100-bank_transfer"] == ("100.00", "0.00")
    assert line_map(posted["payment_refund"]) == {"1200": ("20.00", "0.00"), "1100-test": ("0.00", "20.00")}
    assert line_map(posted["write_off"])["6900"] == (f"{left / 100:.2f}", "0.00")

    balance = await trial_balance(api)
    assert_zero(balance)
    receivables = next(row for row in balance["accounts"] if row["account"] == "1200")
    assert receivables["balance"]["amount"] == "0.00"

    only = await entries(api, source_type="receipt")
    assert [e["id"] for e in only] == [posted["receipt"]["id"]]
    one = check(await api.get(f"/v1/accounting/journal-entries/{posted['receipt']['id']}"))
    assert one == posted["receipt"]
    assert (await api.get(f"/v1/accounting/journal-entries/{uuid.uuid4()}")).status_code == 404


async def test_without_a_rate_the_base_is_pending_not_guessed(api: httpx.AsyncClient, database_url: str) -> None:
    order_id = uuid.uuid4()
    await publish(database_url, issued(document(MIXED[:1], currency="USD"), order_id=order_id))
    [entry] = await entries(api, order_id=str(order_id))
    assert entry["base_pending"] is True
    assert entry["fx_rate"] is None
    assert all(line["base_debit"] is None and line["base_credit"] is None for line in entry["lines"])
    balance = await trial_balance(api)
    assert_zero(balance)
    usd = [row for row in balance["accounts"] if row["currency"] == "USD"]
    assert usd
    assert all(row["base_pending_lines"] == 1 for row in usd)


# --- manual entries and reversals ------------------------------------------------------------------------------------


async def test_manual_entries_must_balance_and_reversals_cancel_them_once(api: httpx.AsyncClient) -> None:
    check(await api.post("/v1/accounting/accounts", json={"code": "1000", "name": "Bank", "type": "asset"}), 201)
    body = {
        "description": "Owner's deposit",
        "currency": "EUR",
        "occurred_on": "2026-11-30",
        "lines": [{"account": "1000", "debit": "250.00"}, {"account": "4000", "credit": "250.00"}],
    }
    entry = check(await api.post("/v1/accounting/journal-entries", json=body), 201)
    assert entry["source_type"] == "manual"
    assert entry["occurred_on"] == "2026-11-30"
    assert line_map(entry) == {"1000": ("250.00", "0.00"), "4000": ("0.00", "250.00")}

    unbalanced = {**body, "lines": [{"account": "1000", "debit": "250.00"}, {"account": "4000", "credit": "25.00"}]}
    refused = await api.post("/v1/accounting/journal-entries", json=unbalanced)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "unbalanced_entry"
    both = {
        **body,
        "lines": [{"account": "1000", "debit": "1.00", "credit": "1.00"}, {"account": "9999", "credit": "1"}],
    }
    problem = check(await api.post("/v1/accounting/journal-entries", json=both), 422)
    assert {e["code"] for e in problem["errors"]} == {"invalid", "invalid_account"}
    too_fine = {**body, "lines": [{"account": "1000", "debit": "1.001"}, {"account": "4000", "credit": "1.001"}]}
    assert (await api.post("/v1/accounting/journal-entries", json=too_fine)).status_code == 422

    foreign = {**body, "currency": "USD", "fx_rate": "0.9333"}
    foreign["lines"] = [
        {"account": "1000", "debit": "100.00"},
        {"account": "4000", "credit": "33.33"},
        {"account": "4000", "credit": "33.33"},
        {"account": "4000", "credit": "33.34"},
    ]
    converted = check(await api.post("/v1/accounting/journal-entries", json=foreign), 201)
    base_debit = sum(Decimal(line["base_debit"]["amount"]) for line in converted["lines"])
    base_credit = sum(Decimal(line["base_credit"]["amount"]) for line in converted["lines"])
    # The credits convert to 31.11 + 31.11 + 31.12 = 93.34; the largest line (the debit, 93.33) takes the cent.
    assert base_debit == base_credit == Decimal("93.34")
    assert converted["lines"][0]["base_debit"]["amount"] == "93.34"

    reversal = check(
        await api.post(f"/v1/accounting/journal-entries/{entry['id']}/reverse", json={"reason": "typo"}), 201
    )
    assert reversal["source_type"] == "reversal"
    assert reversal["reverses_id"] == entry["id"]
    assert line_map(reversal) == {"1000": ("0.00", "250.00"), "4000": ("250.00", "0.00")}
    again = await api.post(f"/v1/accounting/journal-entries/{entry['id']}/reverse", json={})
    assert again.status_code == 409
    assert again.json()["code"] == "already_reversed"
    assert (await api.post(f"/v1/accounting/journal-entries/{uuid.uuid4()}/reverse", json={})).status_code == 404

    check(await api.patch("/v1/accounting/accounts/1000", json={"active": False}))
    inactive = check(await api.post("/v1/accounting/journal-entries", json=body), 422)
    assert inactive["errors"][0]["code"] == "invalid_account"

    balance = await trial_balance(api)
    assert_zero(balance)
    before = await trial_balance(api, as_of="2026-11-29")
    assert before["accounts"] == []


async def test_the_journal_lists_by_page_and_filters(api: httpx.AsyncClient, database_url: str) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    await publish(database_url, *(moved(first, 100 + n, "EUR") for n in range(3)), moved(second, 7, "EUR"))
    page = check(await api.get("/v1/accounting/journal-entries", params={"limit": 2}))
    assert len(page["data"]) == 2
    assert page["has_more"]
    assert page["next_cursor"]
    rest = check(await api.get("/v1/accounting/journal-entries", params={"limit": 2, "cursor": page["next_cursor"]}))
    assert len(rest["data"]) == 2
    assert not rest["has_more"]
    assert len(await entries(api, order_id=str(first))) == 3
    assert len(await entries(api, order_id=str(second), source_type="payment_capture")) == 1
    assert await entries(api, since="2026-11-26") == []
    assert len(await entries(api, since="2026-11-25", until="2026-11-25")) == 4


# --- end to end: invoices issued and paid through the API -----------------------------------------------------------


async def test_an_issued_invoice_and_a_bank_transfer_are_posted_in_their_transactions(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(api)
    order = await taxed_order(api, shop)
    made = await invoice(api, order["id"])
    posted = await entries(api, order_id=order["id"])
    assert [e["source_type"] for e in posted] == ["invoice"]
    assert line_map(posted[0])["1200"][0] == made["total"]["amount"]
    body = {"reference": "SEPA 1", "received_on": "2026-12-01"}
    paid = await api.post(f"/v1/invoices/{made['id']}/payments", json=body)
    assert paid.status_code in (200, 201), paid.text
    posted = await entries(api, order_id=order["id"])
    assert [e["source_type"] for e in posted] == ["invoice", "receipt"]
    assert line_map(posted[1])["1100-bank_transfer"] == (made["total"]["amount"], "0.00")
    assert_zero(await trial_balance(api))


async def test_captures_refunds_and_invoices_per_shipment_are_posted_as_the_order_ships(api: httpx.AsyncClient) -> None:
    shop = await invoicing_shop(
        api, policy="per_shipment", payment_policy="authorize_at_placement", payment_gateway="test"
    )
    order = await taxed_order(api, shop, payment={"method": APPROVE})
    for shipment in (await shipments_by_warehouse(api, order["id"])).values():
        await ship(api, shipment["id"], shop["carrier"])
    [payment] = (await order_payments(api, order["id"]))["data"]
    refunded = await api.post(f"/v1/payments/{payment['id']}/refund", json={"amount": eur("5.00"), "reason": "late"})
    assert refunded.status_code == 200, refunded.text

    posted = await entries(api, order_id=order["id"])
    kinds = sorted(e["source_type"] for e in posted)
    assert kinds == ["invoice", "invoice", "payment_capture", "payment_capture", "payment_refund"]
    captured = sum(Decimal(line_map(e)["1100-test"][0]) for e in posted if e["source_type"] == "payment_capture")
    invoiced = sum(Decimal(line_map(e)["1200"][0]) for e in posted if e["source_type"] == "invoice")
    assert captured == invoiced == Decimal(order["totals"]["grand_total"]["amount"])
    assert line_map(next(e for e in posted if e["source_type"] == "payment_refund"))["1200"] == ("5.00", "0.00")
    balance = await trial_balance(api)
    assert_zero(balance)
    receivables = next(row for row in balance["accounts"] if row["account"] == "1200")
    assert receivables["balance"]["amount"] == "5.00"  # refunded, owed back by the customer's invoice
