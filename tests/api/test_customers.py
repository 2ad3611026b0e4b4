"""/v1/customers through HTTP, and the services the orders context calls, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.customers import service as customers
from oms_api.customers.models import Customer
from oms_api.customers.schemas import CustomerCreate
from oms_api.kit import outbox
from oms_api.kit.auth import Principal, Scope
from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.errors import NotFound
from tests.conftest import KeyMaker
from tests.support.factories import make_customer, recorded_events

ACTOR = Principal(api_key_id=uuid.uuid4(), name="orders-test", scopes=frozenset({Scope.ADMIN.value}))
ADDRESS = {"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "country": "GB"}


@asynccontextmanager
async def service_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session committed like a request's: buffered events are written just before the commit."""
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            yield session
            await outbox.flush_events(session)
    finally:
        await engine.dispose()


def pointers(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    return [e["pointer"] for e in response.json()["errors"]]


async def test_creating_a_customer_returns_it_with_location_and_etag(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/customers",
        json={
            "email": "  Ada.Lovelace@Example.COM ",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "company": "Analytical Engines Ltd",
            "phone": "+44 20 7946 0000",
            "addresses": [ADDRESS],
            "tags": ["vip", "b2b", "vip"],
            "external_refs": {"shopify": "7365432", "legacy-crm": "C-0042"},
            "notes": "Prefers e-mail",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ada.lovelace@example.com"
    assert body["tags"] == ["b2b", "vip"]
    assert body["external_refs"] == {"shopify": "7365432", "legacy-crm": "C-0042"}
    assert body["addresses"][0]["country"] == "GB"
    assert body["addresses"][0]["line2"] is None
    assert body["version"] == 1
    assert response.headers["location"] == f"/v1/customers/{body['id']}"
    assert response.headers["etag"] == '"1"'
    fetched = await api.get(f"/v1/customers/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["etag"] == '"1"'


async def test_a_customer_needs_an_email_a_name_a_company_or_a_phone(api: httpx.AsyncClient) -> None:
    for anonymous in ({}, {"notes": "who?", "tags": ["vip"]}, {"email": "", "first_name": "  "}):
        response = await api.post("/v1/customers", json=anonymous)
        assert pointers(response) == ["/body"]
        assert response.json()["errors"][0]["code"] == "missing_identity"
    for enough in ({"phone": "+1 555 0100"}, {"company": "ACME"}, {"last_name": "Hopper"}):
        response = await api.post("/v1/customers", json=enough)
        assert response.status_code == 201, response.text
        assert response.json()["email"] is None


async def test_blank_optional_text_counts_as_absent(api: httpx.AsyncClient) -> None:
    customer = await make_customer(api, company="", phone="   ")
    assert customer["company"] is None
    assert customer["phone"] is None


async def test_an_invalid_email_is_refused_with_a_pointer(api: httpx.AsyncClient) -> None:
    for email in ("ada", "ada@", "@example.com", "ada@example", "ada..l@example.com", "ada l@example.com", "a@b@c.de"):
        response = await api.post("/v1/customers", json={"email": email, "first_name": "Ada"})
        assert pointers(response) == ["/body/email"], email


async def test_an_internationalised_email_is_accepted(api: httpx.AsyncClient) -> None:
    customer = await make_customer(api, email="José@Bücher.de")
    assert customer["email"] == "josé@bücher.de"


async def test_a_bad_country_in_an_address_is_refused_with_a_pointer(api: httpx.AsyncClient) -> None:
    addresses = [ADDRESS, {**ADDRESS, "country": "XX"}]
    response = await api.post("/v1/customers", json={"first_name": "Ada", "addresses": addresses})
    assert pointers(response) == ["/body/addresses/1/country"]


async def test_unknown_fields_are_refused_at_any_depth(api: httpx.AsyncClient) -> None:
    top = await api.post("/v1/customers", json={"first_name": "Ada", "colour": "red"})
    assert pointers(top) == ["/body/colour"]
    nested = await api.post("/v1/customers", json={"first_name": "Ada", "addresses": [{**ADDRESS, "floor": 3}]})
    assert pointers(nested) == ["/body/addresses/0/floor"]


async def test_too_many_or_malformed_tags_are_refused(api: httpx.AsyncClient) -> None:
    too_many = await api.post("/v1/customers", json={"first_name": "Ada", "tags": [f"t{i}" for i in range(21)]})
    assert pointers(too_many) == ["/body/tags"]
    assert too_many.json()["errors"][0]["code"] == "too_long"
    malformed = await api.post("/v1/customers", json={"first_name": "Ada", "tags": ["ok", "Not OK"]})
    assert pointers(malformed) == ["/body/tags/1"]
    too_long_together = [f"{i:02d}" + "x" * 30 for i in range(20)]
    overflow = await api.post("/v1/customers", json={"first_name": "Ada", "tags": too_long_together})
    assert pointers(overflow) == ["/body/tags"]


async def test_too_many_addresses_and_bad_external_refs_are_refused(api: httpx.AsyncClient) -> None:
    addresses = await api.post("/v1/customers", json={"first_name": "Ada", "addresses": [ADDRESS] * 21})
    assert pointers(addresses) == ["/body/addresses"]
    refs = {f"src{i}": str(i) for i in range(21)}
    too_many = await api.post("/v1/customers", json={"first_name": "Ada", "external_refs": refs})
    assert pointers(too_many) == ["/body/external_refs"]
    bad_source = await api.post("/v1/customers", json={"first_name": "Ada", "external_refs": {"Shop Ify": "1"}})
    assert pointers(bad_source)[0].startswith("/body/external_refs/Shop Ify")
    empty_id = await api.post("/v1/customers", json={"first_name": "Ada", "external_refs": {"shopify": ""}})
    assert pointers(empty_id) == ["/body/external_refs/shopify"]
    too_long = await api.post("/v1/customers", json={"first_name": "Ada", "phone": "1" * 41})
    assert pointers(too_long) == ["/body/phone"]


async def test_a_duplicate_email_is_a_conflict_whatever_its_case(api: httpx.AsyncClient) -> None:
    customer = await make_customer(api, email="grace@example.com")
    again = await api.post("/v1/customers", json={"email": "GRACE@Example.com", "first_name": "Grace"})
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_email"
    assert again.json()["existing_id"] == customer["id"]


async def test_unknown_customer_is_a_404_problem_and_a_malformed_id_a_422(api: httpx.AsyncClient) -> None:
    missing = f"/v1/customers/{uuid.uuid4()}"
    for response in (await api.get(missing), await api.patch(missing, json={"notes": "x"})):
        assert response.status_code == 404
        assert response.json()["code"] == "customer_not_found"
    assert pointers(await api.get("/v1/customers/not-a-uuid")) == ["/path/customer_id"]


async def test_patch_bumps_the_version_and_honours_if_match(api: httpx.AsyncClient) -> None:
    customer = await make_customer(api)
    url = f"/v1/customers/{customer['id']}"
    changed = await api.patch(url, json={"tags": ["vip"], "phone": "+49 30 123"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["tags"] == ["vip"]
    assert changed.json()["first_name"] == customer["first_name"]
    assert changed.headers["etag"] == '"2"'
    stale = await api.patch(url, json={"tags": []}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    assert (await api.get(url)).json()["tags"] == ["vip"]
    unchanged = await api.patch(url, json={"tags": ["vip"], "phone": "+49 30 123"})
    assert unchanged.json()["version"] == 2


async def test_patch_rechecks_email_uniqueness(api: httpx.AsyncClient) -> None:
    taken = await make_customer(api)
    customer = await make_customer(api)
    url = f"/v1/customers/{customer['id']}"
    clash = await api.patch(url, json={"email": taken["email"].upper()})
    assert clash.status_code == 409
    assert clash.json()["code"] == "duplicate_email"
    assert clash.json()["existing_id"] == taken["id"]
    own_in_capitals = await api.patch(url, json={"email": customer["email"].upper()})
    assert own_in_capitals.status_code == 200
    assert own_in_capitals.json()["version"] == 1
    moved = await api.patch(url, json={"email": "New.Address@example.org"})
    assert moved.status_code == 200
    assert moved.json()["email"] == "new.address@example.org"
    assert pointers(await api.patch(url, json={"email": "not-an-email"})) == ["/body/email"]


async def test_patch_clears_optional_fields_but_keeps_the_customer_identified(api: httpx.AsyncClient) -> None:
    customer = await make_customer(api, company="ACME")
    url = f"/v1/customers/{customer['id']}"
    cleared = await api.patch(url, json={"email": None, "first_name": "", "last_name": None})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["email"], cleared.json()["first_name"], cleared.json()["company"]) == (None, None, "ACME")
    anonymous = await api.patch(url, json={"company": None})
    assert anonymous.status_code == 422
    assert anonymous.json()["errors"][0]["code"] == "missing_identity"
    replaced = await api.patch(url, json={"company": None, "phone": "+1 555 0100"})
    assert replaced.status_code == 200
    assert pointers(await api.patch(url, json={"tags": None, "addresses": None})) == ["/body/addresses", "/body/tags"]


async def test_list_filters_by_email_tag_search_and_external_ref(api: httpx.AsyncClient) -> None:
    ada = await make_customer(api, email="ada@example.com", tags=["vip"], external_refs={"shopify": "1001"})
    grace = await make_customer(
        api, email="grace@navy.mil", first_name="Grace", last_name="Hopper", company="US Navy", tags=["vip", "b2b"]
    )
    await make_customer(api, email="vipless@example.com", tags=["vip-not"], external_refs={"shopify": "10011"})

    async def ids(**params: Any) -> list[str]:
        response = await api.get("/v1/customers", params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["data"]]

    assert await ids(email="ADA@example.com") == [ada["id"]]
    assert await ids(tag="vip") == [ada["id"], grace["id"]]
    assert await ids(tag="b2b") == [grace["id"]]
    assert await ids(q="hopper") == [grace["id"]]
    assert await ids(q="NAVY") == [grace["id"]]
    assert await ids(q="grace hopper") == [grace["id"]]
    assert await ids(q="ada hopper") == []
    assert await ids(q="%") == []
    assert await ids(external_ref="shopify:1001") == [ada["id"]]
    assert await ids(external_ref="woo:1001") == []
    assert await ids(tag="vip", q="navy") == [grace["id"]]
    assert pointers(await api.get("/v1/customers", params={"external_ref": "no-colon"})) == ["/query/external_ref"]
    assert pointers(await api.get("/v1/customers", params={"tag": "Not A Tag"})) == ["/query/tag"]


async def test_list_pages_with_cursor_and_link_header(api: httpx.AsyncClient) -> None:
    created = [await make_customer(api) for _ in range(5)]
    first = await api.get("/v1/customers", params={"limit": 2})
    page = first.json()
    assert page["has_more"] is True
    assert 'rel="next"' in first.headers["link"]
    seen = [c["id"] for c in page["data"]]
    while page["has_more"]:
        page = (await api.get("/v1/customers", params={"limit": 2, "cursor": page["next_cursor"]})).json()
        seen += [c["id"] for c in page["data"]]
    assert seen == [c["id"] for c in created]


async def test_events_carry_a_minimal_snapshot(api: httpx.AsyncClient, database_url: str) -> None:
    customer = await make_customer(api, phone="+1 555 0100", addresses=[ADDRESS], notes="secret", tags=["vip"])
    await api.patch(f"/v1/customers/{customer['id']}", json={"last_name": "Byron"})
    events = await recorded_events(database_url, customer["id"])
    assert [e["type"] for e in events] == ["customer.created", "customer.updated"]
    assert set(events[0]["data"]) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "tags",
        "version",
        # how a business customer is invoiced (issue 11): no address, phone or notes still
        "company",
        "vat_id",
        "payment_terms",
        "credit_limit_minor",
    }
    assert events[0]["data"]["tags"] == ["vip"]
    assert events[1]["data"]["last_name"] == "Byron"
    assert events[1]["data"]["version"] == 2


async def test_customers_need_the_customer_scopes(api: httpx.AsyncClient, make_key: KeyMaker) -> None:
    customer = await make_customer(api)
    reader = {"Authorization": f"Bearer {await make_key(Scope.CUSTOMERS_READ.value)}"}
    assert (await api.get(f"/v1/customers/{customer['id']}", headers=reader)).status_code == 200
    refused = await api.post("/v1/customers", json={"first_name": "x"}, headers=reader)
    assert refused.status_code == 403
    assert refused.json()["required_scope"] == "customers:write"
    writer = {"Authorization": f"Bearer {await make_key(Scope.CUSTOMERS_WRITE.value)}"}
    assert (await api.post("/v1/customers", json={"first_name": "x"}, headers=writer)).status_code == 201
    assert (await api.get("/v1/customers", headers=writer)).status_code == 403


async def test_resolve_for_order_finds_the_customer_by_email_in_any_case(
    api: httpx.AsyncClient, database_url: str
) -> None:
    customer = await make_customer(api, email="ada@example.com")
    details = CustomerCreate(email="ADA@Example.com", first_name="Someone", last_name="Else", tags=["new"])
    async with service_session(database_url) as session:
        found = await customers.resolve_for_order(session, ACTOR, details)
        assert str(found.id) == customer["id"]
        count = (await session.execute(select(func.count()).select_from(Customer))).scalar_one()
    assert count == 1
    unchanged = (await api.get(f"/v1/customers/{customer['id']}")).json()
    assert unchanged == customer
    assert [e["type"] for e in await recorded_events(database_url, customer["id"])] == ["customer.created"]


async def test_resolve_for_order_creates_the_customer_when_the_email_is_new(
    api: httpx.AsyncClient, database_url: str
) -> None:
    details = CustomerCreate(email="New@Example.com", first_name="Nia", addresses=[ADDRESS], tags=["first-order"])
    async with service_session(database_url) as session:
        created = await customers.resolve_for_order(session, ACTOR, details)
        customer_id = str(created.id)
    fetched = (await api.get(f"/v1/customers/{customer_id}")).json()
    assert fetched["email"] == "new@example.com"
    assert fetched["tags"] == ["first-order"]
    assert fetched["addresses"][0]["city"] == "London"
    events = await recorded_events(database_url, customer_id)
    assert [e["type"] for e in events] == ["customer.created"]
    assert events[0]["actor"] == ACTOR.actor


async def test_resolve_for_order_without_an_email_always_creates(database_url: str) -> None:
    details = CustomerCreate(first_name="Walk-in", phone="+1 555 0100")
    async with service_session(database_url) as session:
        first = await customers.resolve_for_order(session, ACTOR, details)
        second = await customers.resolve_for_order(session, ACTOR, details)
    assert first.id != second.id


async def test_resolve_for_order_returns_the_winner_of_a_concurrent_creation(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def resolve_in_parallel() -> uuid.UUID:
        async with session_scope(sessions) as session:
            return (await customers.resolve_for_order(session, ACTOR, CustomerCreate(email="Race@Example.com"))).id

    try:
        async with sessions() as first:
            winner = await customers.create_customer(first, ACTOR, CustomerCreate(email="race@example.com"))
            await first.flush()
            contender = asyncio.create_task(resolve_in_parallel())
            await asyncio.sleep(0.3)
            assert not contender.done()  # waits on the unique index (PostgreSQL) or the write lock (SQLite)
            await first.commit()
        assert await contender == winner.id
    finally:
        await engine.dispose()


async def test_get_customer_is_the_lookup_the_orders_context_uses(api: httpx.AsyncClient, database_url: str) -> None:
    customer = await make_customer(api)
    async with service_session(database_url) as session:
        assert str((await customers.get_customer(session, uuid.UUID(customer["id"]))).id) == customer["id"]
        with pytest.raises(NotFound) as caught:
            await customers.get_customer(session, uuid.uuid4())
    assert caught.value.code == "customer_not_found"


async def test_control_characters_are_refused_rather_than_crashing_postgresql(api: httpx.AsyncClient) -> None:
    assert pointers(await api.post("/v1/customers", json={"first_name": "Ada\u0000"})) == ["/body/first_name"]
    assert pointers(await api.post("/v1/customers", json={"company": "A\nB"})) == ["/body/company"]
    assert pointers(await api.post("/v1/customers", json={"phone": "1", "notes": "\u0000"})) == ["/body/notes"]
    assert pointers(await api.get("/v1/customers", params={"q": "a\u0000"})) == ["/query/q"]
    assert pointers(await api.get("/v1/customers", params={"external_ref": "x:\u0000"})) == ["/query/external_ref"]
    multi_line = await api.post("/v1/customers", json={"phone": "1", "notes": "first line\nsecond line"})
    assert multi_line.status_code == 201
