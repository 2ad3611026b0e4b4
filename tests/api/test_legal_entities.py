"""Legal entities through HTTP, on SQLite and PostgreSQL: VAT ids checked and normalised, one default at most,
updates with ETags, and their events."""

from __future__ import annotations

import httpx

from oms_api.kit.auth import Scope
from tests.conftest import KeyMaker
from tests.support.factories import recorded_events
from tests.support.invoicing import SELLER, check, make_entity


async def test_a_legal_entity_is_created_with_its_vat_id_normalised_and_becomes_the_first_default(
    api: httpx.AsyncClient, database_url: str
) -> None:
    made = await api.post("/v1/legal-entities", json=SELLER)
    body = check(made, 201)
    assert made.headers["Location"] == "/v1/legal-entities/acme-de"
    assert made.headers["ETag"] == '"1"'
    assert body["vat_id"] == "DE136695976"
    assert body["is_default"] is True  # the first entity issues for every channel that names none
    assert body["address"] == SELLER["address"]
    assert check(await api.get("/v1/legal-entities/acme-de")) == body
    assert check(await api.get(f"/v1/legal-entities/{body['id']}")) == body
    events = await recorded_events(database_url, body["id"])
    assert [(e["type"], e["data"]["code"]) for e in events] == [("legal_entity.created", "acme-de")]

    duplicate = await api.post("/v1/legal-entities", json=SELLER)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate_legal_entity")


async def test_an_invalid_vat_id_is_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    refused = await api.post("/v1/legal-entities", json={**SELLER, "vat_id": "DE136695977"})
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/body/vat_id", "invalid_vat_id")
    unknown = await api.post("/v1/legal-entities", json={**SELLER, "vat_id": "ZZ12345"})
    assert unknown.json()["errors"][0]["pointer"] == "/body/vat_id"
    entity = await make_entity(api)
    patched = await api.patch(f"/v1/legal-entities/{entity['code']}", json={"vat_id": "FR00000000000"})
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["pointer"] == "/body/vat_id"


async def test_making_one_entity_the_default_unsets_the_other(api: httpx.AsyncClient, database_url: str) -> None:
    first = await make_entity(api)
    second = await make_entity(api, code="acme-fr", name="ACME SAS", vat_id="FR 40 303 265 045")
    assert second["vat_id"] == "FR40303265045"
    assert (first["is_default"], second["is_default"]) == (True, False)

    changed = await api.patch("/v1/legal-entities/acme-fr", json={"is_default": True}, headers={"If-Match": '"1"'})
    assert check(changed)["is_default"] is True
    assert changed.headers["ETag"] == '"2"'
    old = check(await api.get("/v1/legal-entities/acme-de"))
    assert (old["is_default"], old["version"]) == (False, 2)
    listed = check(await api.get("/v1/legal-entities"))
    assert [(e["code"], e["is_default"]) for e in listed["data"]] == [("acme-de", False), ("acme-fr", True)]
    assert [e["type"] for e in await recorded_events(database_url, first["id"])] == [
        "legal_entity.created",
        "legal_entity.updated",
    ]

    third = await make_entity(api, code="acme-it", name="ACME Srl", vat_id=None, is_default=True)
    assert third["is_default"] is True
    assert check(await api.get("/v1/legal-entities/acme-fr"))["is_default"] is False


async def test_updates_check_the_etag_and_a_missing_entity_is_404(api: httpx.AsyncClient) -> None:
    await make_entity(api)
    stale = await api.patch("/v1/legal-entities/acme-de", json={"name": "ACME AG"}, headers={"If-Match": '"7"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")
    renamed = check(await api.patch("/v1/legal-entities/acme-de", json={"name": "ACME AG", "iban": None}))
    assert (renamed["name"], renamed["iban"], renamed["version"]) == ("ACME AG", None, 2)
    unchanged = check(await api.patch("/v1/legal-entities/acme-de", json={"name": "ACME AG"}))
    assert unchanged["version"] == 2
    missing = await api.get("/v1/legal-entities/nobody")
    assert (missing.status_code, missing.json()["code"]) == (404, "legal_entity_not_found")
    assert (await api.patch("/v1/legal-entities/nobody", json={"name": "X"})).status_code == 404


async def test_legal_entities_take_invoices_scopes(api: httpx.AsyncClient, make_key: KeyMaker) -> None:
    reader = {"Authorization": f"Bearer {await make_key(Scope.INVOICES_READ.value)}"}
    assert (await api.post("/v1/legal-entities", json=SELLER, headers=reader)).status_code == 403
    assert (await api.get("/v1/legal-entities", headers=reader)).status_code == 200
    writer = {"Authorization": f"Bearer {await make_key(Scope.INVOICES_WRITE.value)}"}
    assert (await api.post("/v1/legal-entities", json=SELLER, headers=writer)).status_code == 201
