"""/v1/skus through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.support.factories import gtin13, make_sku


async def test_creating_a_sku_returns_it_with_location_and_etag(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/skus",
        json={"sku": "TSHIRT-RED-M", "name": "T-shirt red M", "barcode": "4006381333931", "weight_g": 180},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sku"] == "TSHIRT-RED-M"
    assert body["barcode"] == "4006381333931"
    assert body["version"] == 1
    assert response.headers["location"] == f"/v1/skus/{body['id']}"
    assert response.headers["etag"] == '"1"'


async def test_a_sku_is_found_by_code_and_by_id(api: httpx.AsyncClient) -> None:
    sku = await make_sku(api)
    by_code = await api.get(f"/v1/skus/{sku['sku']}")
    by_id = await api.get(f"/v1/skus/{sku['id']}")
    assert by_code.status_code == by_id.status_code == 200
    assert by_code.json() == by_id.json() == sku


async def test_a_barcode_with_a_wrong_check_digit_is_refused_with_a_pointer(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/skus", json={"sku": "X1", "name": "X", "barcode": "4006381333932"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["pointer"] == "/body/barcode"


async def test_upc_ean8_and_gtin14_barcodes_are_accepted(api: httpx.AsyncClient) -> None:
    for n, code in enumerate(["036000291452", "73513537", "98412345678908"]):
        response = await api.post("/v1/skus", json={"sku": f"B{n}", "name": "b", "barcode": code})
        assert response.status_code == 201, response.text


async def test_a_duplicate_code_or_barcode_is_a_conflict(api: httpx.AsyncClient) -> None:
    sku = await make_sku(api)
    same_code = await api.post("/v1/skus", json={"sku": sku["sku"], "name": "again"})
    same_barcode = await api.post("/v1/skus", json={"sku": "OTHER", "name": "x", "barcode": sku["barcode"]})
    assert same_code.status_code == 409
    assert same_code.json()["code"] == "duplicate_sku"
    assert same_code.json()["existing_id"] == sku["id"]
    assert same_barcode.status_code == 409
    assert same_barcode.json()["code"] == "duplicate_barcode"


async def test_unknown_fields_are_refused(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/skus", json={"sku": "A", "name": "a", "colour": "red"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/body/colour"


async def test_malformed_json_is_a_400_problem(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/skus", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


async def test_patch_bumps_the_version_and_honours_if_match(api: httpx.AsyncClient) -> None:
    sku = await make_sku(api)
    changed = await api.patch(f"/v1/skus/{sku['sku']}", json={"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.headers["etag"] == '"2"'
    stale = await api.patch(f"/v1/skus/{sku['sku']}", json={"name": "Lost"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    assert (await api.get(f"/v1/skus/{sku['sku']}")).json()["name"] == "Renamed"


async def test_list_pages_with_cursor_and_link_header(api: httpx.AsyncClient) -> None:
    created = [await make_sku(api) for _ in range(5)]
    first = await api.get("/v1/skus", params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert [s["id"] for s in page["data"]] == [s["id"] for s in created[:2]]
    assert page["has_more"] is True
    assert 'rel="next"' in first.headers["link"]
    seen = [s["id"] for s in page["data"]]
    while page["has_more"]:
        page = (await api.get("/v1/skus", params={"limit": 2, "cursor": page["next_cursor"]})).json()
        seen += [s["id"] for s in page["data"]]
    assert seen == [s["id"] for s in created]


async def test_a_forged_cursor_is_a_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/skus", params={"cursor": "garbage!"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


async def test_list_filters_by_active_and_search(api: httpx.AsyncClient) -> None:
    await make_sku(api, name="Blue mug", active=False)
    await make_sku(api, name="Red mug")
    inactive = (await api.get("/v1/skus", params={"active": "false"})).json()["data"]
    assert [s["name"] for s in inactive] == ["Blue mug"]
    found = (await api.get("/v1/skus", params={"q": "red"})).json()["data"]
    assert [s["name"] for s in found] == ["Red mug"]


async def test_idempotent_create_replays_the_first_response(api: httpx.AsyncClient) -> None:
    body = {"sku": "IDEM-1", "name": "Once", "barcode": gtin13(999)}
    first = await api.post("/v1/skus", json=body, headers={"Idempotency-Key": "k-1"})
    again = await api.post("/v1/skus", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    other_body = await api.post("/v1/skus", json={**body, "name": "Twice"}, headers={"Idempotency-Key": "k-1"})
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"


async def test_a_failed_idempotent_request_can_be_retried_with_the_same_key(api: httpx.AsyncClient) -> None:
    sku = await make_sku(api)
    body = {"sku": sku["sku"], "name": "dup"}
    assert (await api.post("/v1/skus", json=body, headers={"Idempotency-Key": "k-2"})).status_code == 409
    fixed = await api.post("/v1/skus", json={**body, "sku": "NEW-1"}, headers={"Idempotency-Key": "k-3"})
    assert fixed.status_code == 201
    retry = await api.post("/v1/skus", json=body, headers={"Idempotency-Key": "k-2"})
    assert retry.status_code == 409
    assert "idempotent-replayed" not in retry.headers


async def test_unknown_sku_is_a_404_problem(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/skus/NOPE")
    assert response.status_code == 404
    assert response.json()["code"] == "sku_not_found"
    assert response.json()["instance"] == "/v1/skus/NOPE"
