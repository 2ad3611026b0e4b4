"""AR aging and the overdue job through HTTP, on SQLite and PostgreSQL: buckets per customer and in total in the base
currency, invoices without a rate apart, the report as of a past date, JSON and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from oms_api.invoices import service as invoices
from oms_api.invoices.models import Invoice
from oms_api.invoices.tasks import mark_overdue
from oms_api.kit import outbox
from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.money import Money
from tests.support.factories import make_customer, recorded_events
from tests.support.invoicing import check, eur, invoice, invoicing_shop, taxed_order

TODAY = date.today()


async def backdate(database_url: str, invoice_id: str, issued_days_ago: int, due_days_ago: int) -> None:
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await session.execute(
                update(Invoice)
                .where(Invoice.id == uuid.UUID(invoice_id))
                .values(
                    issue_date=TODAY - timedelta(days=issued_days_ago), due_date=TODAY - timedelta(days=due_days_ago)
                )
            )
    finally:
        await engine.dispose()


async def foreign_invoice(
    api: httpx.AsyncClient, shop: dict[str, Any], customer: dict[str, Any], currency: str
) -> dict[str, Any]:
    price = {"amount": "10.00", "currency": currency}
    body = {
        "channel": shop["channel"],
        "external_ref": f"{currency}-{uuid.uuid4().hex[:8]}",
        "currency": currency,
        "customer": {"id": customer["id"]},
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [{"sku": shop["mug"], "quantity": 1, "unit_price": price}],
    }
    order = check(await api.post("/v1/orders", json=body), 201)
    return await invoice(api, order["id"])


async def ledger(api: httpx.AsyncClient, database_url: str) -> dict[str, Any]:
    """Customer A: 47.83 due 40 days ago, 47.83 due in 10 days (10.00 paid today), GBP 10.00 without a rate;
    customer B: 47.83 due 100 days ago (written off today), USD 10.00 at 1.25 per EUR due today."""
    shop = await invoicing_shop(api)
    a = await make_customer(api, company="Ada Ltd")
    b = await make_customer(api, company="Babbage Ltd")
    rate = {"base": "EUR", "quote": "USD", "rate": "1.25", "rate_date": TODAY.isoformat()}
    assert (await api.post("/v1/fx-rates", json=[rate])).status_code == 201
    a1 = await invoice(api, (await taxed_order(api, shop, customer={"id": a["id"]}))["id"])
    a2 = await invoice(api, (await taxed_order(api, shop, customer={"id": a["id"]}))["id"])
    b1 = await invoice(api, (await taxed_order(api, shop, customer={"id": b["id"]}))["id"])
    b2 = await foreign_invoice(api, shop, b, "USD")
    a3 = await foreign_invoice(api, shop, a, "GBP")
    await backdate(database_url, a1["id"], 50, 40)
    await backdate(database_url, a2["id"], 5, -10)
    await backdate(database_url, b1["id"], 110, 100)
    paid = await api.post(
        f"/v1/invoices/{a2['id']}/payments", json={"received_on": TODAY.isoformat(), "amount": eur("10.00")}
    )
    assert paid.status_code == 201, paid.text
    written = await api.post(f"/v1/invoices/{b1['id']}/write-off", json={"reason": "insolvent"})
    assert written.status_code == 200, written.text
    return {"a": a, "b": b, "a1": a1, "a2": a2, "a3": a3, "b1": b1, "b2": b2}


def buckets(current: str, d30: str, d60: str, d90: str, over: str, total: str, cur: str = "EUR") -> dict[str, Any]:
    def m(x: str) -> dict[str, str]:
        return {"amount": x, "currency": cur}

    return {
        "current": m(current),
        "days_1_30": m(d30),
        "days_31_60": m(d60),
        "days_61_90": m(d90),
        "days_over_90": m(over),
        "total": m(total),
    }


async def test_aging_today_and_as_of_yesterday(api: httpx.AsyncClient, database_url: str) -> None:
    made = await ledger(api, database_url)
    report = check(await api.get("/v1/reports/ar-aging"))
    assert (report["as_of"], report["base_currency"]) == (TODAY.isoformat(), "EUR")
    by_customer = {c["customer_id"]: c for c in report["customers"]}
    assert by_customer[made["a"]["id"]]["buckets"] == buckets("37.83", "0.00", "47.83", "0.00", "0.00", "85.66")
    assert by_customer[made["a"]["id"]]["name"] == "Ada Ltd"
    assert by_customer[made["b"]["id"]]["buckets"] == buckets("8.00", "0.00", "0.00", "0.00", "0.00", "8.00")
    assert report["total"] == buckets("45.83", "0.00", "47.83", "0.00", "0.00", "93.66")
    [gbp] = report["unconverted"]
    assert gbp["currency"] == "GBP"
    assert gbp["total"] == buckets("10.00", "0.00", "0.00", "0.00", "0.00", "10.00", "GBP")
    assert [c["customer_id"] for c in gbp["customers"]] == [made["a"]["id"]]

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:  # the aging of a customer is its open receivables
            owed = await invoices.open_receivables(session, uuid.UUID(made["b"]["id"]), "EUR")
    finally:
        await engine.dispose()
    assert owed == Money.from_minor(800, "EUR")

    yesterday = (TODAY - timedelta(days=1)).isoformat()
    before = check(await api.get("/v1/reports/ar-aging", params={"as_of": yesterday}))
    # the payment and the write-off of today are not counted; today's invoices did not exist
    assert before["total"] == buckets("47.83", "0.00", "47.83", "0.00", "47.83", "143.49")
    assert before["unconverted"] == []


async def test_aging_as_csv(api: httpx.AsyncClient, database_url: str) -> None:
    made = await ledger(api, database_url)
    by_accept = await api.get("/v1/reports/ar-aging", headers={"Accept": "text/csv"})
    assert by_accept.status_code == 200
    assert by_accept.headers["content-type"].startswith("text/csv")
    by_query = await api.get("/v1/reports/ar-aging", params={"format": "csv"})
    assert by_query.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_accept.text)))
    base_total = next(r for r in rows if r["section"] == "base" and r["customer"] == "TOTAL")
    assert (base_total["current"], base_total["days_31_60"], base_total["total"]) == ("45.83", "47.83", "93.66")
    ada = next(r for r in rows if r["section"] == "base" and r["customer_id"] == made["a"]["id"])
    assert (ada["customer"], ada["invoices"], ada["total"]) == ("Ada Ltd", "2", "85.66")
    gbp = [r for r in rows if r["section"] == "unconverted"]
    assert [(r["currency"], r["customer"], r["total"]) for r in gbp] == [
        ("GBP", "Ada Ltd", "10.00"),
        ("GBP", "TOTAL", "10.00"),
    ]
    assert (await api.get("/v1/reports/ar-aging", params={"as_of": "yesterday"})).status_code == 422


async def test_the_overdue_job_marks_invoices_past_due(api: httpx.AsyncClient, database_url: str) -> None:
    made = await ledger(api, database_url)
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            changed = await mark_overdue(session)
            await outbox.flush_events(session)
        async with session_scope(session_factory(engine)) as session:
            again = await mark_overdue(session)
    finally:
        await engine.dispose()
    assert (changed, again) == (1, 0)  # a1 (b1 is written off, a2 not due yet)
    assert check(await api.get(f"/v1/invoices/{made['a1']['id']}"))["status"] == "overdue"
    assert check(await api.get(f"/v1/invoices/{made['a2']['id']}"))["status"] == "partially_paid"
    assert (await recorded_events(database_url, made["a1"]["id"]))[-1]["type"] == "invoice.overdue"
    late = await api.post(
        f"/v1/invoices/{made['a1']['id']}/payments", json={"received_on": TODAY.isoformat(), "amount": eur("7.83")}
    )
    assert late.status_code == 201, late.text
    assert check(await api.get(f"/v1/invoices/{made['a1']['id']}"))["status"] == "overdue"
    rest = await api.post(f"/v1/invoices/{made['a1']['id']}/payments", json={"received_on": TODAY.isoformat()})
    assert rest.status_code == 201, rest.text
    assert check(await api.get(f"/v1/invoices/{made['a1']['id']}"))["status"] == "paid"
