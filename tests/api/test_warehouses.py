"""/v1/warehouses through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import KeyMaker
from tests.support.factories import make_warehouse, recorded_events


async def test_creating_a_warehouse_returns_it_with_location_and_etag(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/warehouses",
        json={
            "code": "BER-1",
            "name": "Berlin",
            "address": {"line1": "1 Dock Road", "city": "Berlin", "country": "DE"},
            "latitude": 52.52,
            "longitude": 13.405,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == "BER-1"
    assert body["active"] is True
    assert body["priority"] == 0
    assert body["version"] == 1
    assert body["address"]["city"] == "Berlin"
    assert (body["latitude"], body["longitude"]) == (52.52, 13.405)
    assert response.headers["location"] == f"/v1/warehouses/{body['id']}"
    assert response.headers["etag"] == '"1"'


async def test_a_warehouse_needs_no_address_nor_coordinates(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/warehouses", json={"code": "POP-UP", "name": "Pop-up store", "priority": -5})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["address"] is None
    assert body["latitude"] is None
    assert body["longitude"] is None
    assert body["priority"] == -5


async def test_a_warehouse_is_found_by_code_and_by_id(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    by_code = await api.get(f"/v1/warehouses/{warehouse['code']}")
    by_id = await api.get(f"/v1/warehouses/{warehouse['id']}")
    assert by_code.status_code == by_id.status_code == 200
    assert by_code.json() == by_id.json() == warehouse
    assert by_code.headers["etag"] == '"1"'


async def test_an_unknown_warehouse_is_not_found(api: httpx.AsyncClient) -> None:
    for ref in ("NOPE", "01900000-0000-7000-8000-000000000000"):
        response = await api.get(f"/v1/warehouses/{ref}")
        assert response.status_code == 404
        assert response.json()["code"] == "warehouse_not_found"
    patched = await api.patch("/v1/warehouses/NOPE", json={"name": "x"})
    assert patched.status_code == 404
    assert patched.json()["code"] == "warehouse_not_found"


async def test_a_duplicate_code_is_a_conflict(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    again = await api.post("/v1/warehouses", json={"code": warehouse["code"], "name": "Again"})
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_warehouse"
    assert again.json()["existing_id"] == warehouse["id"]


async def test_latitude_without_longitude_is_refused_with_a_pointer(api: httpx.AsyncClient) -> None:
    only_lat = await api.post("/v1/warehouses", json={"code": "A", "name": "a", "latitude": 10})
    only_lon = await api.post("/v1/warehouses", json={"code": "B", "name": "b", "longitude": 10})
    assert only_lat.status_code == only_lon.status_code == 422
    assert only_lat.json()["errors"][0]["pointer"] == "/body/longitude"
    assert only_lon.json()["errors"][0]["pointer"] == "/body/latitude"


async def test_out_of_range_fields_are_refused(api: httpx.AsyncClient) -> None:
    cases: dict[str, dict[str, Any]] = {
        "latitude": {"latitude": 91, "longitude": 0},
        "longitude": {"latitude": 0, "longitude": -181},
        "priority": {"priority": 1001},
        "code": {"code": "has space"},
    }
    for field, overrides in cases.items():
        response = await api.post("/v1/warehouses", json={"code": "OK-1", "name": "n", **overrides})
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["pointer"] == f"/body/{field}"


async def test_patch_bumps_the_version_and_honours_if_match(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    url = f"/v1/warehouses/{warehouse['code']}"
    changed = await api.patch(url, json={"name": "Renamed", "priority": 50}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["priority"] == 50
    assert changed.headers["etag"] == '"2"'
    stale = await api.patch(url, json={"name": "Lost"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    assert (await api.get(url)).json()["name"] == "Renamed"


async def test_a_patch_that_changes_nothing_keeps_the_version(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    same = await api.patch(f"/v1/warehouses/{warehouse['id']}", json={"name": warehouse["name"]})
    assert same.status_code == 200
    assert same.json()["version"] == 1


async def test_patch_can_clear_the_address_and_both_coordinates(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    url = f"/v1/warehouses/{warehouse['id']}"
    half = await api.patch(url, json={"latitude": None})
    assert half.status_code == 422
    assert half.json()["errors"][0]["pointer"] == "/body/latitude"
    cleared = await api.patch(url, json={"latitude": None, "longitude": None, "address": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["address"] is None
    assert cleared.json()["latitude"] is None


async def test_patch_refuses_null_for_required_fields_and_a_new_code(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    url = f"/v1/warehouses/{warehouse['id']}"
    for field in ("name", "active", "priority"):
        response = await api.patch(url, json={field: None})
        assert response.status_code == 422, field
        assert response.json()["errors"][0]["pointer"] == f"/body/{field}"
    renamed = await api.patch(url, json={"code": "NEW"})
    assert renamed.status_code == 422
    assert renamed.json()["errors"][0]["pointer"] == "/body/code"


async def test_the_list_filters_on_active_and_pages_with_a_cursor(api: httpx.AsyncClient) -> None:
    made = [await make_warehouse(api) for _ in range(3)]
    await api.patch(f"/v1/warehouses/{made[1]['id']}", json={"active": False})
    first = await api.get("/v1/warehouses", params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert [w["id"] for w in page["data"]] == [made[0]["id"], made[1]["id"]]
    assert page["has_more"] is True
    assert 'rel="next"' in first.headers["link"]
    second = (await api.get("/v1/warehouses", params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [w["id"] for w in second["data"]] == [made[2]["id"]]
    assert second["has_more"] is False
    active = (await api.get("/v1/warehouses", params={"active": "true"})).json()["data"]
    inactive = (await api.get("/v1/warehouses", params={"active": "false"})).json()["data"]
    assert [w["id"] for w in active] == [made[0]["id"], made[2]["id"]]
    assert [w["id"] for w in inactive] == [made[1]["id"]]


async def test_creating_and_changing_a_warehouse_records_events(api: httpx.AsyncClient, database_url: str) -> None:
    warehouse = await make_warehouse(api)
    await api.patch(f"/v1/warehouses/{warehouse['id']}", json={"active": False})
    events = await recorded_events(database_url, warehouse["id"])
    assert [e["type"] for e in events] == ["warehouse.created", "warehouse.updated"]
    assert events[1]["data"]["active"] is False
    assert events[1]["data"]["version"] == 2
    assert events[0]["actor"].startswith("api_key:")


async def test_warehouses_need_the_stock_scopes(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    reader = {"Authorization": f"Bearer {await make_key('stock:read')}"}
    outsider = {"Authorization": f"Bearer {await make_key('catalog:read')}"}
    writer = {"Authorization": f"Bearer {await make_key('stock:write')}"}
    assert (await client.get("/v1/warehouses", headers=reader)).status_code == 200
    assert (await client.get("/v1/warehouses", headers=outsider)).status_code == 403
    refused = await client.post("/v1/warehouses", json={"code": "X", "name": "x"}, headers=reader)
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    assert (await client.post("/v1/warehouses", json={"code": "X", "name": "x"}, headers=writer)).status_code == 201


async def test_a_retried_create_with_an_idempotency_key_is_answered_from_the_first(api: httpx.AsyncClient) -> None:
    body = {"code": "IDEM-1", "name": "Once"}
    first = await api.post("/v1/warehouses", json=body, headers={"Idempotency-Key": "wh-1"})
    again = await api.post("/v1/warehouses", json=body, headers={"Idempotency-Key": "wh-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


async def test_nul_characters_are_refused_before_they_reach_the_database(api: httpx.AsyncClient) -> None:
    warehouse = await make_warehouse(api)
    address = {"line1": "1 Dock\u0000Road", "city": "Berlin", "country": "DE"}
    cases = [
        (await api.post("/v1/warehouses", json={"code": "NUL-1", "name": "a\u0000b"}), "/body/name"),
        (
            await api.post("/v1/warehouses", json={"code": "NUL-2", "name": "a", "address": address}),
            "/body/address/line1",
        ),
        (await api.patch(f"/v1/warehouses/{warehouse['id']}", json={"name": "\u0000"}), "/body/name"),
        (await api.get("/v1/warehouses/a%00b"), "/path/warehouse"),
    ]
    for response, pointer in cases:
        assert response.status_code == 422, pointer
        assert response.json()["errors"][0]["pointer"] == pointer
