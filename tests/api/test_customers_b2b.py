"""Business customers through /v1/customers: VAT id, payment terms, credit limit (issue 11), on both databases."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from oms_api.customers import service as customers
from oms_api.customers.domain import PaymentTerms, TermsKind
from oms_api.kit.db import create_engine, session_factory
from tests.support.factories import make_customer, recorded_events

NET_30 = {"kind": "net", "days": 30, "discount_percent": "2", "discount_days": 10}


def pointers(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["pointer"] for e in response.json()["errors"]]


async def test_a_business_customer_carries_vat_id_terms_and_credit_limit(
    api: httpx.AsyncClient, database_url: str
) -> None:
    created = await make_customer(
        api,
        company="Analytical Engines GmbH",
        vat_id="de 136 695 976",
        payment_terms=NET_30,
        credit_limit={"amount": "5000.00", "currency": "EUR"},
    )
    assert created["vat_id"] == "DE136695976"
    assert created["payment_terms"] == {
        "kind": "net",
        "days": 30,
        "discount_percent": "2",
        "discount_days": 10,
        "description": "Net 30, 2 % discount if paid within 10 days",
    }
    assert created["credit_limit"] == {"amount": "5000.00", "currency": "EUR"}
    fetched = (await api.get(f"/v1/customers/{created['id']}")).json()
    assert fetched["payment_terms"] == created["payment_terms"]
    event = (await recorded_events(database_url, created["id"]))[0]
    assert event["data"]["vat_id"] == "DE136695976"
    assert event["data"]["credit_limit_minor"] == 500000
    assert event["data"]["payment_terms"]["kind"] == "net"

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            billing = await customers.billing_of(session, uuid.UUID(created["id"]))
            assert await customers.billing_of(session, uuid.uuid4()) is None
    finally:
        await engine.dispose()
    assert billing is not None
    assert billing.company == "Analytical Engines GmbH"
    assert billing.terms == PaymentTerms(TermsKind.NET, 30, Decimal("2"), 10)
    assert billing.credit_limit_minor == 500000


async def test_a_consumer_has_none_of_them(api: httpx.AsyncClient) -> None:
    created = await make_customer(api)
    assert created["vat_id"] is None
    assert created["payment_terms"] is None
    assert created["credit_limit"] is None


async def test_terms_and_limit_change_and_clear(api: httpx.AsyncClient, database_url: str) -> None:
    created = await make_customer(api, company="Babbage & Co")
    path = f"/v1/customers/{created['id']}"
    changed = await api.patch(
        path,
        json={
            "payment_terms": {"kind": "end_of_month_plus", "days": 10},
            "credit_limit": {"amount": "100", "currency": "EUR"},
            "vat_id": "FR40303265045",
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["payment_terms"]["description"] == "End of month + 10 days"
    assert body["credit_limit"] == {"amount": "100.00", "currency": "EUR"}
    assert body["vat_id"] == "FR40303265045"
    cleared = (await api.patch(path, json={"payment_terms": None, "credit_limit": None, "vat_id": None})).json()
    assert (cleared["payment_terms"], cleared["credit_limit"], cleared["vat_id"]) == (None, None, None)
    types = [e["type"] for e in await recorded_events(database_url, created["id"])]
    assert types == ["customer.created", "customer.updated", "customer.updated"]


async def test_due_on_receipt_takes_no_days(api: httpx.AsyncClient) -> None:
    created = await make_customer(api, payment_terms={"kind": "due_on_receipt"})
    assert created["payment_terms"]["description"] == "Due on receipt"
    assert created["payment_terms"]["days"] == 0


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("vat_id", "DE136695977", "/body/vat_id"),
        ("vat_id", "ZZ123", "/body/vat_id"),
        ("payment_terms", {"kind": "net"}, "/body/payment_terms"),
        ("payment_terms", {"kind": "net", "days": 366}, "/body/payment_terms/days"),
        ("payment_terms", {"kind": "net", "days": -1}, "/body/payment_terms/days"),
        ("payment_terms", {"kind": "due_on_receipt", "days": 5}, "/body/payment_terms"),
        ("payment_terms", {"kind": "net", "days": 30, "discount_percent": "2"}, "/body/payment_terms"),
        ("payment_terms", {"kind": "net", "days": 30, "discount_days": 10}, "/body/payment_terms"),
        (
            "payment_terms",
            {"kind": "net", "days": 30, "discount_percent": "0", "discount_days": 10},
            "/body/payment_terms",
        ),
        (
            "payment_terms",
            {"kind": "net", "days": 30, "discount_percent": "100", "discount_days": 10},
            "/body/payment_terms/discount_percent",
        ),
        ("payment_terms", {"kind": "weekly", "days": 7}, "/body/payment_terms/kind"),
        ("credit_limit", {"amount": "100.00", "currency": "USD"}, "/body/credit_limit/currency"),
    ],
)
async def test_invalid_b2b_fields_are_422_naming_the_field(
    api: httpx.AsyncClient, field: str, value: Any, pointer: str
) -> None:
    response = await api.post("/v1/customers", json={"company": "Acme", field: value})
    assert pointer in pointers(response)
    created = await make_customer(api)
    response = await api.patch(f"/v1/customers/{created['id']}", json={field: value})
    assert pointer in pointers(response)
