"""Quotes through HTTP, on SQLite and PostgreSQL: drafting and pricing, sending with held stock, acceptance into an
order at the quoted prices, decline, expiry (the job and the 409 after it), lists and the PDF."""

from __future__ import annotations

import copy
import io
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pypdf
import pytest

from oms_api.kit.clock import utcnow
from tests.support.factories import (
    make_channel,
    make_customer,
    make_sku,
    make_warehouse,
    place_order,
    receive,
    recorded_events,
)

BERLIN = {"line1": "Torstr. 1", "city": "Berlin", "postal_code": "10119", "country": "DE"}


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    """A German 19 % rate, two SKUs with 10 units each in one warehouse, a channel and a business customer on
    net 30 terms."""
    rate = {"country": "DE", "category": "standard", "rate": "0.19", "valid_from": "2020-01-01"}
    assert (await api.post("/v1/tax-rates", json=rate)).status_code == 201
    warehouse = await make_warehouse(api)
    desk, chair = await make_sku(api, name="Standing desk"), await make_sku(api, name="Office chair")
    for sku in (desk, chair):
        await receive(api, sku["sku"], warehouse["code"], 10)
    channel = await make_channel(api, name="Acme Trade")
    customer = await make_customer(
        api, company="Globex GmbH", vat_id="DE136695976", payment_terms={"kind": "net", "days": 30}
    )
    return {"desk": desk["sku"], "chair": chair["sku"], "channel": channel["code"], "customer": customer["id"]}


def quote_body(shop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """3 desks at 400.00 less 50.00, 2 chairs at 150.00; shipping 25.00."""
    return {
        "channel": shop["channel"],
        "customer_id": shop["customer"],
        "shipping_address": BERLIN,
        "lines": [
            {"sku": shop["desk"], "quantity": 3, "unit_price": eur("400.00"), "discount": eur("50.00")},
            {"sku": shop["chair"], "quantity": 2, "unit_price": eur("150.00")},
        ],
        "shipping_price": eur("25.00"),
        **extra,
    }


async def create(api: httpx.AsyncClient, shop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await api.post("/v1/quotes", json=quote_body(shop, **extra))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def act(api: httpx.AsyncClient, quote_id: str, action: str, status: int = 200, **body: Any) -> dict[str, Any]:
    response = await api.post(f"/v1/quotes/{quote_id}/{action}", json=body or None)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


async def available(api: httpx.AsyncClient, sku: str) -> tuple[int, int]:
    body = (await api.get(f"/v1/skus/{sku}/availability")).json()
    return body["available"], body["reserved"]


async def set_valid_until(database_url: str, quote_id: str, day: date) -> None:
    """Move a quote's validity (as if time had passed): straight in the database."""
    from sqlalchemy import update

    from oms_api.kit.db import create_engine, session_factory, session_scope
    from oms_api.quotes.models import Quote

    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await session.execute(update(Quote).where(Quote.id == uuid.UUID(quote_id)).values(valid_until=day))
    finally:
        await engine.dispose()


async def run_quote_expiry(database_url: str, **kwargs: Any) -> int:
    from oms_api.kit.db import create_engine, session_factory, session_scope
    from oms_api.quotes.tasks import expire_quotes

    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            return await expire_quotes(session, **kwargs)
    finally:
        await engine.dispose()


# --- the flow -----------------------------------------------------------------------------------------


async def test_a_quote_that_reserves_stock_holds_it_from_sending_and_becomes_an_order_at_its_prices(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    quote = await create(api, shop, reserve_stock=True, notes="Delivery to the loading dock")
    assert quote["status"] == "draft"
    assert quote["number"] == f"Q-{utcnow().year}-000001"
    assert quote["valid_until"] == (utcnow().date() + timedelta(days=30)).isoformat()
    assert quote["stock_held_until"] is None
    desk, chair = quote["lines"]
    assert (desk["unit_price"], desk["discount"], desk["tax_rate"], desk["tax"], desk["total"]) == (
        eur("400.00"),
        eur("50.00"),
        "0.19",
        eur("218.50"),
        eur("1368.50"),
    )
    assert (chair["tax"], chair["total"]) == (eur("57.00"), eur("357.00"))
    totals = quote["totals"]
    assert (totals["subtotal"], totals["discount_total"], totals["shipping_total"], totals["shipping_tax"]) == (
        eur("1500.00"),
        eur("50.00"),
        eur("25.00"),
        eur("4.75"),
    )
    assert (totals["tax_total"], totals["grand_total"]) == (eur("280.25"), eur("1755.25"))
    assert await available(api, shop["desk"]) == (10, 0)

    sent = await act(api, quote["id"], "send")
    assert sent["status"] == "sent"
    assert sent["stock_held_until"] is not None
    assert await available(api, shop["desk"]) == (7, 3)
    assert await available(api, shop["chair"]) == (8, 2)

    accepted = await act(api, quote["id"], "accept")
    assert accepted["status"] == "accepted"
    assert accepted["accepted_at"] is not None
    order = (await api.get(f"/v1/orders/{accepted['order_id']}")).json()
    assert order["external_ref"] == quote["number"]
    assert order["customer_id"] == shop["customer"]
    assert order["status"] == "confirmed"
    assert order["tags"] == ["quote"]
    assert order["notes"] == "Delivery to the loading dock"
    assert [(li["sku"], li["quantity"], li["unit_price"], li["discount"], li["tax"]) for li in order["lines"]] == [
        (li["sku"], li["quantity"], li["unit_price"], li["discount"], li["tax"]) for li in quote["lines"]
    ]
    assert order["totals"]["grand_total"] == totals["grand_total"]
    assert [sum(a["quantity"] for a in li["allocations"]) for li in order["lines"]] == [3, 2]
    # The held stock became the order's reservation in place: availability did not move again.
    assert await available(api, shop["desk"]) == (7, 3)
    assert await available(api, shop["chair"]) == (8, 2)

    types = [e["type"] for e in await recorded_events(database_url, quote["id"])]
    assert types == ["quote.created", "quote.sent", "quote.accepted"]
    again = await api.post(f"/v1/quotes/{quote['id']}/accept")
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["order_id"]) == ("quote_accepted", accepted["order_id"])


@pytest.mark.parametrize(
    ("terms", "payment_status", "status"), [(True, "on_terms", "confirmed"), (False, "unpaid", "on_hold")]
)
async def test_on_a_card_channel_a_customer_with_terms_gets_an_order_on_terms(
    api: httpx.AsyncClient, shop: dict[str, Any], terms: bool, payment_status: str, status: str
) -> None:
    card = await make_channel(api, payment_policy="authorize_at_placement", payment_gateway="test")
    customer = shop["customer"] if terms else (await make_customer(api, company="Cash Only Ltd"))["id"]
    quote = await create(api, shop, channel=card["code"], customer_id=customer, reserve_stock=True)
    await act(api, quote["id"], "send")
    accepted = await act(api, quote["id"], "accept")
    order = (await api.get(f"/v1/orders/{accepted['order_id']}")).json()
    assert (order["payment_status"], order["status"]) == (payment_status, status)
    assert (await api.get(f"/v1/orders/{order['id']}/payments")).json()["data"] == []


async def test_a_quote_without_reservation_reserves_its_stock_at_acceptance(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    quote = await create(api, shop)
    await act(api, quote["id"], "send")
    assert await available(api, shop["desk"]) == (10, 0)
    accepted = await act(api, quote["id"], "accept")
    assert await available(api, shop["desk"]) == (7, 3)
    order = (await api.get(f"/v1/orders/{accepted['order_id']}")).json()
    assert order["totals"]["grand_total"] == quote["totals"]["grand_total"]


async def test_an_acceptance_the_stock_cannot_serve_fails_with_the_orders_problem_and_the_quote_stays_sent(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    quote = await create(api, shop)
    await act(api, quote["id"], "send")
    await place_order(api, shop["channel"], [(shop["desk"], 9)])  # another buyer takes 9 of the 10 desks
    refused = await act(api, quote["id"], "accept", status=409)
    assert refused["code"] == "out_of_stock"
    after = (await api.get(f"/v1/quotes/{quote['id']}")).json()
    assert (after["status"], after["order_id"]) == ("sent", None)


async def test_declining_a_sent_quote_gives_its_held_stock_back(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    quote = await create(api, shop, reserve_stock=True)
    await act(api, quote["id"], "send")
    assert await available(api, shop["desk"]) == (7, 3)
    declined = await act(api, quote["id"], "decline", reason="found a cheaper supplier")
    assert (declined["status"], declined["decline_reason"]) == ("declined", "found a cheaper supplier")
    assert declined["stock_held_until"] is None
    assert await available(api, shop["desk"]) == (10, 0)
    assert (await act(api, quote["id"], "accept", status=409))["code"] == "quote_declined"
    events = await recorded_events(database_url, quote["id"])
    assert events[-1]["type"] == "quote.declined"


async def test_the_expiry_job_expires_quotes_past_their_validity_and_releases_their_stock(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    held = await create(api, shop, reserve_stock=True)
    await act(api, held["id"], "send")
    later = await create(api, shop, valid_until=(utcnow().date() + timedelta(days=60)).isoformat())
    await act(api, later["id"], "send")
    draft = await create(api, shop)
    assert await available(api, shop["desk"]) == (7, 3)

    assert await run_quote_expiry(database_url) == 0  # nothing is past its validity yet
    in_31_days = utcnow() + timedelta(days=31)
    assert await run_quote_expiry(database_url, now=in_31_days) == 1
    expired = (await api.get(f"/v1/quotes/{held['id']}")).json()
    assert (expired["status"], expired["stock_held_until"]) == ("expired", None)
    assert expired["expired_at"] is not None
    assert await available(api, shop["desk"]) == (10, 0)
    assert (await api.get(f"/v1/quotes/{later['id']}")).json()["status"] == "sent"
    assert (await api.get(f"/v1/quotes/{draft['id']}")).json()["status"] == "draft"
    assert await run_quote_expiry(database_url, now=in_31_days) == 0
    assert (await act(api, held["id"], "accept", status=409))["code"] == "quote_expired"
    types = [e["type"] for e in await recorded_events(database_url, held["id"])]
    assert types == ["quote.created", "quote.sent", "quote.expired"]


async def test_accepting_a_quote_past_its_validity_is_refused_before_the_job_runs(
    api: httpx.AsyncClient, shop: dict[str, Any], database_url: str
) -> None:
    quote = await create(api, shop, reserve_stock=True)
    await act(api, quote["id"], "send")
    await set_valid_until(database_url, quote["id"], utcnow().date() - timedelta(days=1))
    refused = await act(api, quote["id"], "accept", status=409)
    assert refused["code"] == "quote_expired"
    assert (await api.get(f"/v1/quotes/{quote['id']}")).json()["status"] == "sent"
    assert await run_quote_expiry(database_url) == 1
    assert await available(api, shop["desk"]) == (10, 0)


# --- drafting -------------------------------------------------------------------------------------------------


async def test_only_a_draft_changes_and_it_is_priced_again(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    quote = await create(api, shop)
    stale = await api.patch(f"/v1/quotes/{quote['id']}", json={"notes": "x"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    changed = await api.patch(
        f"/v1/quotes/{quote['id']}",
        json={"lines": [{"sku": shop["chair"], "quantity": 4, "unit_price": eur("140.00")}], "shipping_price": None},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["version"] == 2
    assert changed.headers["ETag"] == '"2"'
    assert [(li["sku"], li["quantity"]) for li in body["lines"]] == [(shop["chair"], 4)]
    assert body["totals"]["shipping_total"] == eur("0.00")  # the channel charges no shipping
    assert (body["totals"]["subtotal"], body["totals"]["grand_total"]) == (eur("560.00"), eur("666.40"))
    assert body["number"] == quote["number"]

    await act(api, quote["id"], "send")
    refused = await api.patch(f"/v1/quotes/{quote['id']}", json={"notes": "too late"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "quote_not_draft"
    assert (await act(api, quote["id"], "send", status=409))["code"] == "quote_sent"


async def test_a_draft_cannot_be_accepted_or_declined(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    quote = await create(api, shop)
    assert (await act(api, quote["id"], "accept", status=409))["code"] == "quote_not_sent"
    assert (await act(api, quote["id"], "decline", status=409, reason="no"))["code"] == "quote_not_sent"
    assert (await api.post(f"/v1/quotes/{uuid.uuid4()}/send")).status_code == 404


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"customer_id": str(uuid.UUID(int=7))}, "/body/customer_id", "unknown_customer"),
        ({"channel": "nowhere"}, "/body/channel", "unknown_channel"),
        ({"valid_until": "2020-01-01"}, "/body/valid_until", "invalid_validity"),
        ({"lines": [{"sku": "NOPE", "quantity": 1, "unit_price": eur("1.00")}]}, "/body/lines/0/sku", "unknown_sku"),
        (
            {"lines": [{"sku": "X", "quantity": 1, "unit_price": {"amount": "1.00", "currency": "USD"}}]},
            "/body/lines/0/unit_price/currency",
            "currency_mismatch",
        ),
    ],
    ids=["customer", "channel", "validity", "sku", "currency"],
)
async def test_a_quote_that_cannot_be_is_refused_naming_the_field(
    api: httpx.AsyncClient, shop: dict[str, Any], change: dict[str, Any], pointer: str, code: str
) -> None:
    body = quote_body(shop, **copy.deepcopy(change))
    for line in body["lines"]:
        if line["sku"] == "X":
            line["sku"] = shop["desk"]
    response = await api.post("/v1/quotes", json=body)
    assert response.status_code == 422, response.text
    assert [(e["pointer"], e["code"]) for e in response.json()["errors"]] == [(pointer, code)]


async def test_a_sku_given_twice_is_refused(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    line = {"sku": shop["desk"], "quantity": 1, "unit_price": eur("1.00")}
    response = await api.post("/v1/quotes", json=quote_body(shop, lines=[line, line]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "duplicate_sku"


async def test_sending_a_quote_the_stock_cannot_hold_changes_nothing(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    big = [{"sku": shop["desk"], "quantity": 11, "unit_price": eur("400.00")}]
    quote = await create(api, shop, reserve_stock=True, lines=big)
    assert (await act(api, quote["id"], "send", status=409))["code"] == "out_of_stock"
    assert (await api.get(f"/v1/quotes/{quote['id']}")).json()["status"] == "draft"
    assert await available(api, shop["desk"]) == (10, 0)


# --- reading ---------------------------------------------------------------------------------------------------


async def test_quotes_are_listed_by_status_and_customer_page_by_page(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    first, second, third = [await create(api, shop) for _ in range(3)]
    await act(api, second["id"], "send")
    other = await make_customer(api, company="Initech")
    await create(api, shop, customer_id=other["id"])

    page = (await api.get("/v1/quotes", params={"limit": 2, "customer_id": shop["customer"]})).json()
    assert [q["id"] for q in page["data"]] == [first["id"], second["id"]]
    assert page["has_more"] is True
    rest = await api.get(
        "/v1/quotes", params={"limit": 2, "customer_id": shop["customer"], "cursor": page["next_cursor"]}
    )
    assert [q["id"] for q in rest.json()["data"]] == [third["id"]]
    sent = (await api.get("/v1/quotes", params={"status": "sent"})).json()["data"]
    assert [(q["id"], q["grand_total"]) for q in sent] == [(second["id"], second["totals"]["grand_total"])]
    assert (await api.get("/v1/quotes", params={"status": "nonsense"})).status_code == 422


async def test_quote_scopes(api: httpx.AsyncClient, shop: dict[str, Any], make_key: Any) -> None:
    quote = await create(api, shop)
    reader = {"Authorization": f"Bearer {await make_key('quotes:read')}"}
    assert (await api.get(f"/v1/quotes/{quote['id']}", headers=reader)).status_code == 200
    assert (await api.post(f"/v1/quotes/{quote['id']}/send", headers=reader)).status_code == 403


async def test_the_quote_pdf_shows_the_parties_lines_totals_validity_and_terms(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    quote = await create(api, shop, reserve_stock=True)
    response = await api.get(f"/v1/quotes/{quote['id']}/quote.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    for expected in (
        quote["number"],
        "Acme Trade",
        "Globex GmbH",
        "VAT id DE136695976",
        "Standing desk",
        "1755.25 EUR",
        "280.25 EUR",
        "19 % standard",
        f"valid until {quote['valid_until']}",
        "Net 30",
    ):
        assert expected in text, expected
    again = await api.get(f"/v1/quotes/{quote['id']}/quote.pdf")
    assert again.content == response.content  # deterministic bytes


async def test_the_seller_on_the_pdf_is_the_legal_entity_that_would_invoice(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    entity = {
        "code": "acme-de",
        "name": "Acme Handels GmbH",
        "vat_id": "DE 129273398",
        "address": {"line1": "Hafenstr. 5", "city": "Hamburg", "postal_code": "20457", "country": "DE"},
        "is_default": True,
    }
    made = await api.post("/v1/legal-entities", json=entity)
    assert made.status_code == 201, made.text
    quote = await create(api, shop)
    response = await api.get(f"/v1/quotes/{quote['id']}/quote.pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "Acme Handels GmbH" in text
    assert "VAT id DE129273398" in text
    assert "Acme Trade" not in text


def test_the_worker_runs_the_quote_expiry_job_at_its_interval() -> None:
    from oms_api.settings import Settings
    from oms_api.worker.jobs import default_jobs

    jobs = {job.name: job for job in default_jobs(Settings(job_quote_expiry_seconds=120))}
    assert jobs["quote_expiry"].interval_seconds == 120
