"""/v1/channels through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from oms_api.channels import service as channels
from oms_api.kit.auth import Scope
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.errors import NotFound
from tests.conftest import KeyMaker
from tests.support.factories import make_channel, recorded_events


async def test_creating_a_channel_returns_it_with_location_and_etag(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/channels",
        json={"code": "amazon-de", "name": "Amazon DE", "type": "marketplace", "default_currency": "EUR"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == "amazon-de"
    assert body["type"] == "marketplace"
    assert body["default_currency"] == "EUR"
    assert body["active"] is True
    assert body["version"] == 1
    assert response.headers["location"] == f"/v1/channels/{body['id']}"
    assert response.headers["etag"] == '"1"'


async def test_a_channel_is_found_by_code_and_by_id(api: httpx.AsyncClient) -> None:
    channel = await make_channel(api)
    by_code = await api.get(f"/v1/channels/{channel['code']}")
    by_id = await api.get(f"/v1/channels/{channel['id']}")
    assert by_code.status_code == by_id.status_code == 200
    assert by_code.json() == by_id.json() == channel
    assert by_code.headers["etag"] == '"1"'


async def test_an_unknown_currency_is_refused_with_a_pointer(api: httpx.AsyncClient) -> None:
    for currency in ("XYZ", "eur", "EURO"):
        response = await api.post(
            "/v1/channels", json={"code": "pos-1", "name": "Store", "type": "pos", "default_currency": currency}
        )
        assert response.status_code == 422, currency
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "validation_error"
        assert [e["pointer"] for e in response.json()["errors"]] == ["/body/default_currency"]


async def test_an_unknown_channel_type_is_refused_with_a_pointer(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/channels", json={"code": "fax", "name": "Fax", "type": "fax", "default_currency": "EUR"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/body/type"


async def test_every_documented_channel_type_is_accepted(api: httpx.AsyncClient) -> None:
    for kind in ("web", "marketplace", "pos", "phone", "b2b", "customer_service", "other"):
        channel = await make_channel(api, code=f"ch-{kind}", type=kind)
        assert channel["type"] == kind


async def test_unknown_fields_and_bad_codes_are_refused(api: httpx.AsyncClient) -> None:
    extra = await api.post(
        "/v1/channels", json={"code": "a", "name": "a", "type": "web", "default_currency": "EUR", "region": "EU"}
    )
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["pointer"] == "/body/region"
    bad_code = await api.post(
        "/v1/channels", json={"code": "with space", "name": "a", "type": "web", "default_currency": "EUR"}
    )
    assert bad_code.status_code == 422
    assert bad_code.json()["errors"][0]["pointer"] == "/body/code"


async def test_a_duplicate_code_is_a_conflict_naming_the_existing_channel(api: httpx.AsyncClient) -> None:
    channel = await make_channel(api)
    again = await api.post(
        "/v1/channels", json={"code": channel["code"], "name": "Again", "type": "pos", "default_currency": "USD"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_channel"
    assert again.json()["existing_id"] == channel["id"]


async def test_unknown_channel_is_a_404_problem(api: httpx.AsyncClient) -> None:
    for ref in ("nope", "01970000-0000-7000-8000-000000000000"):
        response = await api.get(f"/v1/channels/{ref}")
        assert response.status_code == 404
        assert response.json()["code"] == "channel_not_found"
    patched = await api.patch("/v1/channels/nope", json={"name": "x"})
    assert patched.status_code == 404
    assert patched.json()["code"] == "channel_not_found"


async def test_patch_changes_fields_bumps_the_version_and_honours_if_match(api: httpx.AsyncClient) -> None:
    channel = await make_channel(api)
    changed = await api.patch(
        f"/v1/channels/{channel['code']}",
        json={"name": "Shop CH", "type": "b2b", "default_currency": "CHF", "active": False},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["type"], body["default_currency"], body["active"]) == ("Shop CH", "b2b", "CHF", False)
    assert body["code"] == channel["code"]
    assert body["version"] == 2
    assert changed.headers["etag"] == '"2"'
    stale = await api.patch(f"/v1/channels/{channel['id']}", json={"name": "Lost"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version"
    assert (await api.get(f"/v1/channels/{channel['id']}")).json()["name"] == "Shop CH"


async def test_a_patch_that_changes_nothing_keeps_the_version(api: httpx.AsyncClient) -> None:
    channel = await make_channel(api)
    same = await api.patch(f"/v1/channels/{channel['code']}", json={"name": channel["name"], "active": True})
    assert same.status_code == 200
    assert same.json()["version"] == 1


async def test_the_code_is_immutable_and_required_fields_cannot_be_nulled(api: httpx.AsyncClient) -> None:
    channel = await make_channel(api)
    recode = await api.patch(f"/v1/channels/{channel['code']}", json={"code": "renamed"})
    assert recode.status_code == 422
    assert recode.json()["errors"][0]["pointer"] == "/body/code"
    nulled = await api.patch(f"/v1/channels/{channel['code']}", json={"name": None, "default_currency": None})
    assert nulled.status_code == 422
    assert sorted(e["pointer"] for e in nulled.json()["errors"]) == ["/body/default_currency", "/body/name"]
    bad_currency = await api.patch(f"/v1/channels/{channel['code']}", json={"default_currency": "ABC"})
    assert bad_currency.status_code == 422
    assert bad_currency.json()["errors"][0]["pointer"] == "/body/default_currency"


async def test_list_filters_by_type_and_active(api: httpx.AsyncClient) -> None:
    web = await make_channel(api, type="web")
    pos = await make_channel(api, type="pos", active=False)
    phone = await make_channel(api, type="phone")
    only_pos = (await api.get("/v1/channels", params={"type": "pos"})).json()["data"]
    assert [c["id"] for c in only_pos] == [pos["id"]]
    active = (await api.get("/v1/channels", params={"active": "true"})).json()["data"]
    assert [c["id"] for c in active] == [web["id"], phone["id"]]
    none = (await api.get("/v1/channels", params={"type": "web", "active": "false"})).json()["data"]
    assert none == []
    bad = await api.get("/v1/channels", params={"type": "fax"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/query/type"


async def test_list_pages_with_cursor_and_link_header(api: httpx.AsyncClient) -> None:
    created = [await make_channel(api) for _ in range(5)]
    first = await api.get("/v1/channels", params={"limit": 2})
    page = first.json()
    assert page["has_more"] is True
    assert 'rel="next"' in first.headers["link"]
    seen = [c["id"] for c in page["data"]]
    while page["has_more"]:
        page = (await api.get("/v1/channels", params={"limit": 2, "cursor": page["next_cursor"]})).json()
        seen += [c["id"] for c in page["data"]]
    assert seen == [c["id"] for c in created]


async def test_creating_and_changing_a_channel_records_events(api: httpx.AsyncClient, database_url: str) -> None:
    channel = await make_channel(api)
    await api.patch(f"/v1/channels/{channel['code']}", json={"active": False})
    events = await recorded_events(database_url, channel["id"])
    assert [e["type"] for e in events] == ["channel.created", "channel.updated"]
    assert {e["aggregate_type"] for e in events} == {"channel"}
    assert events[0]["data"]["code"] == channel["code"]
    assert events[1]["data"]["active"] is False
    assert events[1]["data"]["version"] == 2
    assert events[0]["actor"].startswith("api_key:")


async def test_reading_channels_needs_orders_read_and_changing_them_needs_admin(
    api: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    channel = await make_channel(api)
    reader = {"Authorization": f"Bearer {await make_key(Scope.ORDERS_READ.value, Scope.ORDERS_WRITE.value)}"}
    assert (await api.get(f"/v1/channels/{channel['code']}", headers=reader)).status_code == 200
    assert (await api.get("/v1/channels", headers=reader)).status_code == 200
    created = await api.post(
        "/v1/channels", json={"code": "x", "name": "x", "type": "web", "default_currency": "EUR"}, headers=reader
    )
    assert created.status_code == 403
    assert created.json()["code"] == "insufficient_scope"
    assert created.json()["required_scope"] == "admin"
    patched = await api.patch(f"/v1/channels/{channel['code']}", json={"name": "x"}, headers=reader)
    assert patched.status_code == 403
    outsider = {"Authorization": f"Bearer {await make_key(Scope.CATALOG_READ.value)}"}
    assert (await api.get("/v1/channels", headers=outsider)).status_code == 403


async def test_get_channel_is_the_lookup_other_contexts_use(api: httpx.AsyncClient, database_url: str) -> None:
    channel = await make_channel(api)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            assert str((await channels.get_channel(session, channel["code"])).id) == channel["id"]
            assert str((await channels.get_channel(session, channel["id"])).id) == channel["id"]
            with pytest.raises(NotFound) as caught:
                await channels.get_channel(session, "missing")
            assert caught.value.code == "channel_not_found"
    finally:
        await engine.dispose()


async def test_control_characters_and_malformed_refs_are_refused(api: httpx.AsyncClient) -> None:
    nul = await api.post(
        "/v1/channels", json={"code": "c", "name": "Web\u0000", "type": "web", "default_currency": "EUR"}
    )
    assert nul.status_code == 422
    assert nul.json()["errors"][0]["pointer"] == "/body/name"
    malformed = await api.get("/v1/channels/has space")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["pointer"] == "/path/channel"
