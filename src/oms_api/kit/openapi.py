"""OpenAPI post-processing: problem+json error responses, scopes, SDK-friendly ids."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from oms_api.kit.errors import PROBLEM_MEDIA_TYPE, Problem

_DESCRIPTIONS = {
    "400": "Malformed request (invalid JSON, unusable cursor)",
    "401": "Missing, unknown or revoked API key",
    "403": "The API key lacks the required scope",
    "404": "No such resource",
    "409": "Conflicts with the current state (duplicate, out of stock, illegal transition…)",
    "412": "If-Match names a stale version",
    "422": "Validation failed; errors[] points at each problem",
    "500": "Unexpected error (never expected; reported with a request id)",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry declaring a route's business errors as problem documents."""
    return {status: {"model": Problem, "description": _DESCRIPTIONS.get(str(status), "Error")} for status in statuses}


def route_scopes(route: APIRoute) -> list[str]:
    """The scopes a route's dependencies demand (read from its dependency tree)."""
    found: list[str] = []
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        for scope in dep.own_oauth_scopes or []:
            if scope not in found:
                found.append(scope)
        stack.extend(dep.dependencies)
    return found


def build_openapi(app: FastAPI, api_routes: list[APIRoute]) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
        tags=app.openapi_tags,
    )
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components.setdefault("Problem", problem_schema)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    routes = {(r.path, m.lower()): r for r in api_routes for m in (r.methods or ())}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            route = routes.get((path, method))
            scopes = route_scopes(route) if route else []
            if path.startswith("/v1"):
                responses.setdefault("400", {"description": _DESCRIPTIONS["400"]})
                responses.setdefault("422", {"description": _DESCRIPTIONS["422"]})
            if scopes:
                operation["x-required-scopes"] = scopes
                responses.setdefault("401", {"description": _DESCRIPTIONS["401"]})
                responses.setdefault("403", {"description": _DESCRIPTIONS["403"]})
                operation["description"] = (
                    operation.get("description", "") + f"\n\nRequires scope `{scopes[0]}`."
                ).strip()
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
                    response.setdefault("description", _DESCRIPTIONS.get(status, "Error"))
    for item in schema.get("webhooks", {}).values():
        for operation in item.values():  # what a partner's receiver answers to bad input is its own business
            operation.get("responses", {}).pop("422", None)
    app.openapi_schema = schema
    return schema


def spec_json(app: FastAPI) -> str:
    """The OpenAPI document as committed in ``openapi/openapi.json`` (stable formatting)."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
