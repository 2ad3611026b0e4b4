"""A SKU's tax category (``skus.tax_category``) through /v1/skus, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.support.factories import make_sku, recorded_events


async def test_a_sku_is_standard_unless_told_otherwise(api: httpx.AsyncClient) -> None:
    sku = await make_sku(api)
    assert sku["tax_category"] == "standard"
    assert (await api.get(f"/v1/skus/{sku['sku']}")).json()["tax_category"] == "standard"
    reduced = await make_sku(api, tax_category="reduced")
    assert reduced["tax_category"] == "reduced"


async def test_a_sku_may_name_a_category_added_later(api: httpx.AsyncClient) -> None:
    assert (await api.post("/v1/tax-categories", json={"code": "books", "name": "Books"})).status_code == 201
    sku = await make_sku(api, tax_category="books")
    assert sku["tax_category"] == "books"


async def test_an_unknown_tax_category_is_refused(api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/skus", json={"sku": "BOOK-1", "name": "A book", "tax_category": "books"})
    assert created.status_code == 422
    assert created.json()["errors"] == [
        {"pointer": "/body/tax_category", "detail": "no tax category 'books'", "code": "unknown_tax_category"}
    ]
    assert (await api.get("/v1/skus/BOOK-1")).status_code == 404
    sku = await make_sku(api)
    changed = await api.patch(f"/v1/skus/{sku['sku']}", json={"tax_category": "books"})
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["code"] == "unknown_tax_category"
    malformed = await api.patch(f"/v1/skus/{sku['sku']}", json={"tax_category": "Books!"})
    assert malformed.status_code == 422
    emptied = await api.patch(f"/v1/skus/{sku['sku']}", json={"tax_category": None})
    assert emptied.status_code == 422
    assert (await api.get(f"/v1/skus/{sku['sku']}")).json() == sku


async def test_changing_the_tax_category_bumps_the_version_and_says_so(
    api: httpx.AsyncClient, database_url: str
) -> None:
    sku = await make_sku(api)
    changed = await api.patch(f"/v1/skus/{sku['sku']}", json={"tax_category": "reduced"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["tax_category"], changed.json()["version"]) == ("reduced", 2)
    events = await recorded_events(database_url, sku["id"])
    assert [(e["type"], e["data"]["tax_category"]) for e in events] == [
        ("sku.created", "standard"),
        ("sku.updated", "reduced"),
    ]


async def test_the_sku_list_shows_each_tax_category(api: httpx.AsyncClient) -> None:
    await make_sku(api, tax_category="zero")
    await make_sku(api)
    listed = (await api.get("/v1/skus")).json()["data"]
    assert [s["tax_category"] for s in listed] == ["zero", "standard"]
