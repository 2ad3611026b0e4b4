"""Exports of the journal, on SQLite and PostgreSQL: QuickBooks Online and Xero objects checked against schemas
written from their API references (``tests.support.vendor_schemas``), balanced, and CSV; one batch per period and
format, the same batch when asked again, re-exports only when asked for."""

from __future__ import annotations

import csv
import io
import json
import uuid
from decimal import Decimal
from typing import Any

import httpx
import jsonschema_rs

from oms_api.kit.auth import Scope
from tests.conftest import KeyMaker
from tests.support.accounting import issued, moved, publish
from tests.support.invoice_documents import MIXED, credit_note, document
from tests.support.vendor_schemas import QUICKBOOKS_EXPORT, XERO_EXPORT

NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


def check(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = json.loads(response.content, parse_float=Decimal)
    return body


def valid(schema: dict[str, Any], value: Any) -> None:
    errors = [e.message for e in jsonschema_rs.Draft202012Validator(schema).iter_errors(value)]
    assert not errors, errors


async def a_month_of_facts(api: httpx.AsyncClient, database_url: str) -> uuid.UUID:
    """An invoice in USD (EUR base at 0.92) and its credit note, a capture, a manual entry, and an invoice whose
    base is pending: every kind of entry an export meets."""
    order_id = uuid.uuid4()
    invoice_event = issued(document(currency="USD", base_currency="EUR", fx_rate="0.92"), order_id=order_id)
    note = issued(credit_note(base_currency=None), order_id=order_id)
    await publish(database_url, invoice_event, note)
    await publish(database_url, moved(order_id, 30_000, "EUR", gateway="stripe"))
    pending = document(MIXED[:2], currency="GBP", number="INV-2026-000043")
    await publish(database_url, issued(pending, order_id=uuid.uuid4()))
    manual = {
        "description": "Bank fees",
        "currency": "EUR",
        "occurred_on": "2026-11-30",
        "lines": [{"account": "6900", "debit": "4.50"}, {"account": "1200", "credit": "4.50"}],
    }
    check(await api.post("/v1/accounting/journal-entries", json=manual), 201)
    return order_id


async def test_the_quickbooks_export_has_the_shapes_quickbooks_documents_and_balances(
    api: httpx.AsyncClient, database_url: str
) -> None:
    await a_month_of_facts(api, database_url)
    body = check(await api.get("/v1/accounting/exports", params={**NOVEMBER, "format": "quickbooks"}))
    payload = body["payload"]
    valid(QUICKBOOKS_EXPORT, payload)
    assert body["batch"]["format"] == "quickbooks"
    assert body["batch"]["generation"] == 0
    assert body["batch"]["entry_count"] == 5
    assert [i["DocNumber"] for i in payload["Invoice"]] == ["INV-2026-000042", "INV-2026-000043"]
    foreign = payload["Invoice"][0]
    assert foreign["CurrencyRef"] == {"value": "USD"}
    assert foreign["ExchangeRate"] == Decimal("0.92")
    assert "ExchangeRate" not in payload["Invoice"][1]  # its base is pending: no rate is made up
    total = sum(line["Amount"] for line in foreign["Line"]) + foreign["TxnTaxDetail"]["TotalTax"]
    assert total == Decimal(str(document(currency="USD").grand_total.amount))
    for line in foreign["Line"]:
        detail = line["SalesItemLineDetail"]
        assert (detail["Qty"] * detail["UnitPrice"]).quantize(Decimal("0.01")) == line["Amount"]
    assert [m["DocNumber"] for m in payload["CreditMemo"]] == ["CN-2026-000007"]
    assert len(payload["JournalEntry"]) == 2
    for journal in payload["JournalEntry"]:
        debits = sum(x["Amount"] for x in journal["Line"] if x["JournalEntryLineDetail"]["PostingType"] == "Debit")
        credits = sum(x["Amount"] for x in journal["Line"] if x["JournalEntryLineDetail"]["PostingType"] == "Credit")
        assert debits == credits > 0


async def test_the_xero_export_has_the_shapes_xero_documents_and_balances(
    api: httpx.AsyncClient, database_url: str
) -> None:
    check(await api.patch("/v1/accounting/accounts/4000", json={"xero_code": "200"}))
    await a_month_of_facts(api, database_url)
    payload = check(await api.get("/v1/accounting/exports", params={**NOVEMBER, "format": "xero"}))["payload"]
    valid(XERO_EXPORT, payload)
    first = payload["Invoices"][0]
    assert (first["Type"], first["Status"], first["LineAmountTypes"]) == ("ACCREC", "AUTHORISED", "Exclusive")
    assert first["CurrencyCode"] == "USD"
    assert first["CurrencyRate"] == (Decimal(1) / Decimal("0.92")).quantize(Decimal("0.000001"))
    assert {item["AccountCode"] for item in first["LineItems"]} == {"200", "4100"}
    for item in first["LineItems"]:
        assert item["Quantity"] * item["UnitAmount"] - item.get("DiscountAmount", 0) == item["LineAmount"]
    [note] = payload["CreditNotes"]
    assert (note["Type"], note["CreditNoteNumber"], note["Reference"]) == (
        "ACCRECCREDIT",
        "CN-2026-000007",
        "INV-2026-000042",
    )
    assert len(payload["ManualJournals"]) == 2
    for journal in payload["ManualJournals"]:
        assert journal["Status"] == "POSTED"
        assert sum(line["LineAmount"] for line in journal["JournalLines"]) == 0


async def test_an_export_is_one_batch_per_period_and_a_re_export_is_explicit(
    api: httpx.AsyncClient, database_url: str, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    order_id = await a_month_of_facts(api, database_url)
    params = {**NOVEMBER, "format": "csv"}
    first = await api.get("/v1/accounting/exports", params=params)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(first.text)))
    assert len({row["entry_id"] for row in rows}) == 5
    for currency in {row["currency"] for row in rows}:
        mine = [row for row in rows if row["currency"] == currency]
        assert sum(Decimal(r["debit"]) for r in mine) == sum(Decimal(r["credit"]) for r in mine)

    await publish(database_url, moved(order_id, 100, "EUR", gateway="stripe"))  # after the export, same period
    again = await api.get("/v1/accounting/exports", params=params)
    assert again.headers["x-export-batch"] == first.headers["x-export-batch"]
    assert again.text == first.text

    wider = await api.get(
        "/v1/accounting/exports", params={"since": "2026-10-01", "until": "2026-11-30", "format": "csv"}
    )
    assert wider.headers["x-export-batch"] != first.headers["x-export-batch"]
    assert len({row["entry_id"] for row in csv.DictReader(io.StringIO(wider.text))}) == 1  # only the new capture

    other_format = check(await api.get("/v1/accounting/exports", params={**NOVEMBER, "format": "quickbooks"}))
    assert other_format["batch"]["entry_count"] == 6

    reader = {"Authorization": f"Bearer {await make_key(Scope.ACCOUNTING_READ.value)}"}
    refused = await client.get("/v1/accounting/exports", params={**params, "re_export": "true"}, headers=reader)
    assert refused.status_code == 403
    redo = await api.get("/v1/accounting/exports", params={**params, "re_export": "true"})
    assert redo.headers["x-export-batch"] != first.headers["x-export-batch"]
    assert len({row["entry_id"] for row in csv.DictReader(io.StringIO(redo.text))}) == 6

    backwards = await api.get(
        "/v1/accounting/exports", params={"since": "2026-11-30", "until": "2026-11-01", "format": "csv"}
    )
    assert backwards.status_code == 422
