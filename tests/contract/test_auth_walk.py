"""Every business route refuses callers without the right key, walked over the routes that exist at run time.

A route that forgets its ``require``/``write_access`` dependency would silently be public; walking the
router table (instead of listing routes by hand) makes a new route fail here until it declares a scope.

The one exception is a route a platform calls (a storefront's or a carrier's webhook): the platform holds no
API key, it signs the body. Such a route says so with the ``x-signed-by-platform`` OpenAPI extension, and is
held to that instead: it demands no scope, documents its 401, and an API key, even an admin one, does not
let an unsigned request in.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.routing import APIRoute

from oms_api.integrations.base import SIGNED_BY_PLATFORM
from oms_api.kit.auth import Scope
from oms_api.kit.errors import PROBLEM_MEDIA_TYPE
from oms_api.kit.openapi import route_scopes
from oms_api.kit.routing import OmsRoute
from oms_api.routers import all_routers, api_routes
from tests.conftest import KeyMaker
from tests.contract.conftest import Service


def signed_by_platform(route: APIRoute) -> bool:
    return bool((route.openapi_extra or {}).get(SIGNED_BY_PLATFORM))


ALL_V1_ROUTES = [route for route in api_routes(all_routers()) if route.path.startswith("/v1")]
V1_ROUTES = [route for route in ALL_V1_ROUTES if not signed_by_platform(route)]
SIGNED_ROUTES = [route for route in ALL_V1_ROUTES if signed_by_platform(route)]
CASES = [(route, method) for route in V1_ROUTES for method in sorted(route.methods or ())]
SIGNED_CASES = [(route, method) for route in SIGNED_ROUTES for method in sorted(route.methods or ())]
BODY_METHODS = {"POST", "PATCH", "PUT"}


def _case_id(case: tuple[APIRoute, str]) -> str:
    route, method = case
    return f"{method} {route.path}"


def _url(route: APIRoute) -> str:
    """The route's path with plausible dummy values (an int for int parameters, else a fresh UUID)."""
    values = {}
    for param in route.dependant.path_params:
        annotation = param.field_info.annotation
        values[param.name] = "1" if annotation is int else str(uuid.uuid4())
    return route.path_format.format(**values)


def _other_domain_scope(required: list[str]) -> str:
    """A non-admin scope of another domain than every scope the route demands."""
    domains = {scope.split(":")[0] for scope in required}
    for scope in Scope:
        if scope is not Scope.ADMIN and scope.value.split(":")[0] not in domains:
            return scope.value
    raise AssertionError(f"no scope outside {domains}")


async def _call(client: httpx.AsyncClient, route: APIRoute, method: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    body: dict[str, object] | None = {} if method in BODY_METHODS else None
    return await client.request(method, _url(route), json=body, headers=headers)


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == code, response.text


@pytest.fixture
async def walk_client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as c:
        yield c


def test_the_walk_finds_routes() -> None:
    assert any(route.path == "/v1/skus" for route in V1_ROUTES), "the route walk found no /v1 routes"


@pytest.mark.parametrize("route", V1_ROUTES, ids=lambda r: f"{','.join(sorted(r.methods or ()))} {r.path}")
def test_every_v1_route_declares_a_scope_and_runs_in_a_transaction(route: APIRoute) -> None:
    scopes = route_scopes(route)
    assert scopes, f"{route.path} declares no scope: add `require(Scope.X)` or `write_access(Scope.X)`"
    assert set(scopes) <= {s.value for s in Scope}
    assert isinstance(route, OmsRoute), f"{route.path}: set route_class=OmsRoute on its router"


@pytest.mark.parametrize("route", SIGNED_ROUTES, ids=lambda r: f"{','.join(sorted(r.methods or ()))} {r.path}")
def test_a_platform_signed_route_demands_no_scope_and_documents_its_401(route: APIRoute) -> None:
    assert not route_scopes(route), f"{route.path} is signed by its platform: an API key scope would lock it out"
    assert isinstance(route, OmsRoute), f"{route.path}: set route_class=OmsRoute on its router"
    assert 401 in route.responses, f"{route.path} must document the 401 a bad signature gets"


@pytest.mark.parametrize(("route", "method"), SIGNED_CASES, ids=[_case_id(c) for c in SIGNED_CASES])
async def test_an_api_key_does_not_let_an_unsigned_request_into_a_platform_signed_route(
    walk_client: httpx.AsyncClient, service: Service, route: APIRoute, method: str
) -> None:
    for key in (None, service.keys[Scope.ADMIN.value]):
        response = await _call(walk_client, route, method, key)
        assert not response.is_success, f"{method} {route.path} accepted an unsigned request: {response.text}"
        assert response.status_code < 500 or response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


@pytest.mark.parametrize(("route", "method"), CASES, ids=[_case_id(c) for c in CASES])
async def test_a_request_without_a_key_is_a_401(walk_client: httpx.AsyncClient, route: APIRoute, method: str) -> None:
    response = await _call(walk_client, route, method, None)
    _assert_problem(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("route", "method"), CASES, ids=[_case_id(c) for c in CASES])
async def test_an_unknown_or_revoked_key_is_a_401(
    walk_client: httpx.AsyncClient, service: Service, route: APIRoute, method: str
) -> None:
    unknown = await _call(walk_client, route, method, "oms_" + uuid.uuid4().hex)
    _assert_problem(unknown, 401, "invalid_api_key")
    revoked = await _call(walk_client, route, method, service.revoked_key)
    _assert_problem(revoked, 401, "invalid_api_key")


@pytest.mark.parametrize(("route", "method"), CASES, ids=[_case_id(c) for c in CASES])
async def test_a_key_without_the_route_scope_is_a_403(
    walk_client: httpx.AsyncClient, service: Service, route: APIRoute, method: str
) -> None:
    required = route_scopes(route)
    response = await _call(walk_client, route, method, service.keys[_other_domain_scope(required)])
    _assert_problem(response, 403, "insufficient_scope")
    assert response.json()["required_scope"] in required
    for scope in required:
        if scope.endswith(":write"):  # reading never grants writing
            sibling = await _call(walk_client, route, method, service.keys[scope.replace(":write", ":read")])
            _assert_problem(sibling, 403, "insufficient_scope")


@pytest.mark.parametrize(("route", "method"), CASES, ids=[_case_id(c) for c in CASES])
async def test_a_key_with_the_route_scope_is_let_in(
    walk_client: httpx.AsyncClient, service: Service, route: APIRoute, method: str
) -> None:
    required = route_scopes(route)
    key = service.keys[required[0]] if len(required) == 1 else await KeyMaker(service.database_url)(*required)
    response = await _call(walk_client, route, method, key)
    assert response.status_code not in (401, 403), response.text
    assert response.status_code < 500, f"dummy ids and an empty body must never be a server error: {response.text}"
