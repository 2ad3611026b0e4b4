"""/v1/tax-categories and /v1/tax-rates through HTTP, and ``taxes.service.rates_for``, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from oms_api.kit.auth import Scope
from oms_api.kit.db import create_engine, session_factory
from oms_api.taxes import service
from tests.conftest import KeyMaker
from tests.support.factories import make_sku, recorded_events


async def make_rate(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = {"country": "DE", "category": "standard", "rate": "0.19", "valid_from": "2024-01-01", **overrides}
    response = await api.post("/v1/tax-rates", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def listed(api: httpx.AsyncClient, **params: Any) -> list[str]:
    """The names of every rate the list gives for ``params``, following its cursor one rate at a time."""
    names: list[str] = []
    query: dict[str, Any] = {**params, "limit": 1}
    while True:
        response = await api.get("/v1/tax-rates", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        names += [r["name"] for r in page["data"]]
        if not page["next_cursor"]:
            return names
        query["cursor"] = page["next_cursor"]


# --- categories ----------------------------------------------------------------------------------------------


async def test_the_four_builtin_categories_are_seeded_and_listed_first(api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/tax-categories", json={"code": "books", "name": "Books"})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/tax-categories/books"
    assert created.json()["builtin"] is False
    listed = (await api.get("/v1/tax-categories")).json()["data"]
    assert [(c["code"], c["builtin"]) for c in listed] == [
        ("standard", True),
        ("reduced", True),
        ("zero", True),
        ("exempt", True),
        ("books", False),
    ]
    assert (await api.get("/v1/tax-categories/books")).json() == created.json()


async def test_a_duplicate_or_malformed_category_is_refused(api: httpx.AsyncClient) -> None:
    again = await api.post("/v1/tax-categories", json={"code": "reduced", "name": "Again"})
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_tax_category"
    shouting = await api.post("/v1/tax-categories", json={"code": "Books", "name": "Books"})
    assert shouting.status_code == 422
    assert shouting.json()["errors"][0]["pointer"] == "/body/code"


async def test_deleting_a_category_is_refused_while_builtin_or_in_use(
    api: httpx.AsyncClient, database_url: str
) -> None:
    for builtin in ("standard", "reduced", "zero", "exempt"):
        refused = await api.delete(f"/v1/tax-categories/{builtin}")
        assert refused.status_code == 409
        assert refused.json()["code"] == "tax_category_builtin"
    books = (await api.post("/v1/tax-categories", json={"code": "books", "name": "Books"})).json()
    rate = await make_rate(api, category="books", rate="0.07")
    by_rate = await api.delete("/v1/tax-categories/books")
    assert by_rate.status_code == 409
    assert (by_rate.json()["code"], by_rate.json()["rate_id"]) == ("tax_category_in_use", rate["id"])
    assert (await api.delete(f"/v1/tax-rates/{rate['id']}")).status_code == 204
    sku = await make_sku(api, tax_category="books")
    by_sku = await api.delete("/v1/tax-categories/books")
    assert by_sku.status_code == 409
    assert (by_sku.json()["code"], by_sku.json()["sku"]) == ("tax_category_in_use", sku["sku"])
    moved = await api.patch(f"/v1/skus/{sku['sku']}", json={"tax_category": "reduced"})
    assert moved.status_code == 200, moved.text
    assert (await api.delete("/v1/tax-categories/books")).status_code == 204
    assert (await api.get("/v1/tax-categories/books")).status_code == 404
    assert (await api.delete("/v1/tax-categories/books")).status_code == 404
    events = await recorded_events(database_url, books["id"])
    assert [(e["type"], e["data"]["code"]) for e in events] == [
        ("tax_category.created", "books"),
        ("tax_category.deleted", "books"),
    ]


# --- rates ---------------------------------------------------------------------------------------------------


async def test_a_rate_is_created_with_location_etag_a_default_name_and_an_event(
    api: httpx.AsyncClient, database_url: str
) -> None:
    response = await api.post(
        "/v1/tax-rates", json={"country": "DE", "category": "reduced", "rate": "0.07", "valid_from": "2024-01-01"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/tax-rates/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert {k: body[k] for k in ("country", "region", "category", "rate", "name", "valid_from", "valid_to")} == {
        "country": "DE",
        "region": None,
        "category": "reduced",
        "rate": "0.07",
        "name": "DE reduced 7%",
        "valid_from": "2024-01-01",
        "valid_to": None,
    }
    assert (await api.get(f"/v1/tax-rates/{body['id']}")).json() == body
    events = await recorded_events(database_url, body["id"])
    assert [(e["type"], e["data"]) for e in events] == [("tax_rate.created", body)]


@pytest.mark.parametrize("rate", ["0.055", "0.000001", "0.999999", "0", "0.190000"])
async def test_rates_round_trip_exactly(api: httpx.AsyncClient, rate: str) -> None:
    created = await make_rate(api, country="FR", rate=rate, name="r")
    expected = str(Decimal(rate).normalize()) if Decimal(rate) else "0"
    assert created["rate"] == expected
    assert (await api.get(f"/v1/tax-rates/{created['id']}")).json()["rate"] == expected


async def test_a_rate_is_a_decimal_string_not_a_json_number(api: httpx.AsyncClient) -> None:
    body = {"country": "AT", "category": "standard", "rate": 0.13, "valid_from": "2024-01-01"}
    response = await api.post("/v1/tax-rates", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/body/rate"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"country": "XX"}, "/body/country"),
        ({"country": "de"}, "/body/country"),
        ({"region": "es-cn"}, "/body/region"),
        ({"rate": "1"}, "/body/rate"),
        ({"rate": "-0.01"}, "/body/rate"),
        ({"rate": "0.1234567"}, "/body/rate"),
        ({"rate": "19%"}, "/body/rate"),
        ({"rate": ".19"}, "/body/rate"),
        ({"valid_to": "2024-01-01"}, "/body"),
    ],
)
async def test_bad_rates_are_refused_with_a_pointer(
    api: httpx.AsyncClient, change: dict[str, Any], pointer: str
) -> None:
    body = {"country": "DE", "category": "standard", "rate": "0.19", "valid_from": "2024-01-01", **change}
    response = await api.post("/v1/tax-rates", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == pointer


async def test_a_rate_of_an_unknown_category_is_refused(api: httpx.AsyncClient) -> None:
    body = {"country": "DE", "category": "books", "rate": "0.07", "valid_from": "2024-01-01"}
    response = await api.post("/v1/tax-rates", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "pointer": "/body/category",
        "detail": "no tax category 'books'",
        "code": "unknown_tax_category",
    }


async def test_overlapping_rates_of_one_country_region_and_category_are_refused(api: httpx.AsyncClient) -> None:
    first = await make_rate(api, valid_from="2024-01-01", valid_to="2025-01-01", name="DE 19 2024")
    for valid_from, valid_to in (("2024-06-01", None), ("2023-01-01", "2024-01-02"), ("2023-01-01", None)):
        clash = await api.post(
            "/v1/tax-rates",
            json={
                "country": "DE",
                "category": "standard",
                "rate": "0.2",
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
        )
        assert clash.status_code == 409, (valid_from, valid_to)
        assert clash.json()["code"] == "tax_rate_overlap"
        assert clash.json()["existing_id"] == first["id"]
        assert "DE 19 2024" in clash.json()["detail"]
    # Before, after (valid_to is exclusive), another category, a region, another country: all fine.
    await make_rate(api, valid_from="2023-01-01", valid_to="2024-01-01")
    await make_rate(api, valid_from="2025-01-01")
    await make_rate(api, category="reduced", rate="0.07")
    await make_rate(api, region="BY", rate="0.2")
    await make_rate(api, country="AT", rate="0.2")
    region_clash = await api.post(
        "/v1/tax-rates",
        json={"country": "DE", "region": "BY", "category": "standard", "rate": "0.2", "valid_from": "2030-01-01"},
    )
    assert region_clash.status_code == 409


async def test_a_rate_is_end_dated_by_patch_so_its_successor_can_start(api: httpx.AsyncClient) -> None:
    old = await make_rate(api, rate="0.16", valid_from="2020-07-01", name="DE 16")
    successor = {"country": "DE", "category": "standard", "rate": "0.19", "valid_from": "2021-01-01", "name": "DE 19"}
    assert (await api.post("/v1/tax-rates", json=successor)).status_code == 409
    ended = await api.patch(f"/v1/tax-rates/{old['id']}", json={"valid_to": "2021-01-01"}, headers={"If-Match": '"1"'})
    assert ended.status_code == 200, ended.text
    assert (ended.json()["valid_to"], ended.json()["version"], ended.headers["etag"]) == ("2021-01-01", 2, '"2"')
    assert (await api.post("/v1/tax-rates", json=successor)).status_code == 201
    assert await listed(api, on="2020-12-31") == ["DE 16"]
    assert await listed(api, on="2021-01-01") == ["DE 19"]
    assert await listed(api, on="2020-06-30") == []
    reopened = await api.patch(f"/v1/tax-rates/{old['id']}", json={"valid_to": None})
    assert reopened.status_code == 409
    assert reopened.json()["code"] == "tax_rate_overlap"
    backwards = await api.patch(f"/v1/tax-rates/{old['id']}", json={"valid_to": "2020-07-01"})
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["pointer"] == "/body/valid_to"


async def test_patch_needs_the_current_version_and_records_an_event(api: httpx.AsyncClient, database_url: str) -> None:
    rate = await make_rate(api)
    renamed = await api.patch(f"/v1/tax-rates/{rate['id']}", json={"name": "DE VAT 19%"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200
    stale = await api.patch(f"/v1/tax-rates/{rate['id']}", json={"name": "Other"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    unchanged = await api.patch(f"/v1/tax-rates/{rate['id']}", json={"name": "DE VAT 19%"})
    assert unchanged.json()["version"] == 2
    null_name = await api.patch(f"/v1/tax-rates/{rate['id']}", json={"name": None})
    assert null_name.status_code == 422
    frozen = await api.patch(f"/v1/tax-rates/{rate['id']}", json={"rate": "0.2"})
    assert frozen.status_code == 422
    events = await recorded_events(database_url, rate["id"])
    assert [(e["type"], e["data"]["name"]) for e in events] == [
        ("tax_rate.created", "DE standard 19%"),
        ("tax_rate.updated", "DE VAT 19%"),
    ]


async def test_the_list_filters_by_country_region_category_and_day(api: httpx.AsyncClient) -> None:
    await make_rate(api, country="ES", rate="0.21", name="ES 21")
    await make_rate(api, country="ES", region="ES-CN", rate="0.07", name="ES-CN 7")
    await make_rate(api, country="ES", category="reduced", rate="0.10", name="ES 10")
    await make_rate(api, country="DE", name="DE 19 old", valid_from="2020-01-01", valid_to="2024-01-01")
    await make_rate(api, country="DE", name="DE 19")
    everything = ["ES 21", "ES-CN 7", "ES 10", "DE 19 old", "DE 19"]
    assert await listed(api) == everything
    assert await listed(api, country="ES") == ["ES 21", "ES-CN 7", "ES 10"]
    assert await listed(api, region="ES-CN") == ["ES-CN 7"]
    assert await listed(api, category="reduced") == ["ES 10"]
    assert await listed(api, country="ES", category="standard") == ["ES 21", "ES-CN 7"]
    assert await listed(api, country="DE", on="2023-06-01") == ["DE 19 old"]
    assert await listed(api, on="2024-01-01") == ["ES 21", "ES-CN 7", "ES 10", "DE 19"]
    assert await listed(api, country="PT") == []
    bad = await api.get("/v1/tax-rates", params={"country": "ZZ"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/query/country"


async def test_deleting_a_rate(api: httpx.AsyncClient, database_url: str) -> None:
    rate = await make_rate(api)
    stale = await api.delete(f"/v1/tax-rates/{rate['id']}", headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert (await api.delete(f"/v1/tax-rates/{rate['id']}", headers={"If-Match": '"1"'})).status_code == 204
    assert (await api.get(f"/v1/tax-rates/{rate['id']}")).status_code == 404
    assert (await api.delete(f"/v1/tax-rates/{rate['id']}")).status_code == 404
    events = await recorded_events(database_url, rate["id"])
    assert [e["type"] for e in events] == ["tax_rate.created", "tax_rate.deleted"]
    assert events[1]["data"]["id"] == rate["id"]


async def test_reading_needs_taxes_read_and_writing_taxes_write(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    reader = {"Authorization": f"Bearer {await make_key(Scope.TAXES_READ.value)}"}
    writer = {"Authorization": f"Bearer {await make_key(Scope.TAXES_WRITE.value)}"}
    outsider = {"Authorization": f"Bearer {await make_key(Scope.CATALOG_READ.value)}"}
    body = {"country": "DE", "category": "standard", "rate": "0.19", "valid_from": "2024-01-01"}
    assert (await client.get("/v1/tax-rates", headers=reader)).status_code == 200
    assert (await client.get("/v1/tax-categories", headers=reader)).status_code == 200
    assert (await client.post("/v1/tax-rates", json=body, headers=reader)).status_code == 403
    assert (await client.post("/v1/tax-rates", json=body, headers=writer)).status_code == 201
    assert (await client.get("/v1/tax-rates", headers=outsider)).status_code == 403


# --- rates_for: what order placement asks ----------------------------------------------------------------------


async def test_rates_for_loads_a_destination_in_one_select(api: httpx.AsyncClient, database_url: str) -> None:
    standard = await make_rate(api, country="ES", rate="0.21", name="ES 21")
    canaries = await make_rate(api, country="ES", region="ES-CN", rate="0.07", name="ES-CN 7")
    await make_rate(api, country="ES", category="reduced", rate="0.10", valid_from="2030-01-01")
    await make_rate(api, country="US", region="CA", rate="0.0725", name="CA")
    engine = create_engine(database_url)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    on = date(2025, 3, 1)
    try:
        async with session_factory(engine)() as session:
            await session.execute(text("SELECT 1"))  # connected, transaction begun: what follows is rates_for's
            statements.clear()
            mainland = await service.rates_for(session, "ES", None, {"standard", "reduced", "exempt"}, on)
            assert [s.split()[0] for s in statements if not s.startswith(("BEGIN", "PRAGMA"))] == ["SELECT"]
            islands = await service.rates_for(session, "ES", "ES-CN", {"standard"}, on)
            texas = await service.rates_for(session, "US", "TX", {"standard"}, on)
            california = await service.rates_for(session, "US", "CA", {"standard"}, on)
            nowhere = await service.rates_for(session, "PT", None, {"standard"}, on)
    finally:
        await engine.dispose()
    assert mainland.taxes_country
    assert (mainland.rate_of("standard").rate, mainland.rate_of("standard").rate_id) == (  # type: ignore[union-attr]
        Decimal("0.21"),
        uuid.UUID(standard["id"]),
    )
    assert mainland.rate_of("reduced") is None, "the reduced rate starts in 2030"
    assert mainland.rate_of("exempt").exempt  # type: ignore[union-attr]
    assert islands.rate_of("standard").name == "ES-CN 7"  # type: ignore[union-attr]
    assert str(islands.rate_of("standard").rate_id) == canaries["id"]  # type: ignore[union-attr]
    assert not texas.taxes_country, "no rate applies in Texas: tax is not collected there"
    assert california.taxes_country
    assert california.rate_of("standard").rate == Decimal("0.0725")  # type: ignore[union-attr]
    assert not nowhere.taxes_country
