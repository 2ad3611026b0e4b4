"""OpenAPI post-processing: problem+json error responses, scopes, SDK-friendly ids.

Every rule here applies to every route, present and future, so the document stays clean under Spectral's
``spectral:oas`` ruleset (``.spectral.yaml``, run by ``.ci/run``) and an SDK generator with no configuration
(openapi-python-client) builds every operation.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from oms_api.kit.errors import PROBLEM_MEDIA_TYPE, Problem
from oms_api.kit.negotiation import OCTET_STREAM
from oms_api.kit.route_marks import SIGNED_BY_PLATFORM

_DESCRIPTIONS = {
    "400": "Malformed request (invalid JSON, unusable cursor)",
    "401": "Missing, unknown or revoked API key",
    "403": "The API key lacks the required scope",
    "404": "No such resource",
    "409": "Conflicts with the current state (duplicate, out of stock, illegal transition…)",
    "412": "If-Match names a stale version",
    "413": "The request body is larger than this route accepts (payload_too_large)",
    "422": "Validation failed; errors[] points at each problem",
    "429": "Over the rate limit (rate_limited) or too many failed authentications; wait for Retry-After",
    "500": "Unexpected error (never expected; reported with a request id)",
}

_SCOPED_SCHEME_TYPES = {"oauth2", "openIdConnect"}
_RATE_LIMIT_HEADERS = {
    "Retry-After": {"description": "Seconds until a request fits again", "schema": {"type": "integer"}},
    "RateLimit-Policy": {
        "description": 'draft-ietf-httpapi-ratelimit-headers-10, e.g. `"api-key";q=200;w=2`',
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'draft-ietf-httpapi-ratelimit-headers-10, e.g. `"api-key";r=0;t=2`',
        "schema": {"type": "string"},
    },
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
        servers=app.servers,
        contact=app.contact,
        license_info=app.license_info,
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
            if "requestBody" in operation:  # kit.limits
                responses.setdefault("413", {"description": _DESCRIPTIONS["413"]})
            if scopes or operation.get(SIGNED_BY_PLATFORM):  # kit.admission
                responses.setdefault("429", {"description": _DESCRIPTIONS["429"], "headers": _RATE_LIMIT_HEADERS})
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
                elif status[0] == "2":
                    offer_octet_stream(response)
            scopeless_security(operation, schema["components"].get("securitySchemes", {}))
    for item in schema.get("webhooks", {}).values():
        for operation in item.values():  # what a partner's receiver answers to bad input is its own business
            operation.get("responses", {}).pop("422", None)
    app.openapi_schema = schema
    return schema


def scopeless_security(operation: dict[str, Any], schemes: dict[str, dict[str, Any]]) -> None:
    """Empty the scope list of every requirement whose scheme is neither OAuth2 nor OpenID Connect.

    FastAPI lists ``Security(..., scopes=...)`` scopes on any scheme, but OpenAPI allows them only for those
    two (an API key is an ``http`` bearer here); the scopes stay documented in ``x-required-scopes``.
    """
    for requirement in operation.get("security", []):
        for name in requirement:
            if schemes.get(name, {}).get("type") not in _SCOPED_SCHEME_TYPES:
                requirement[name] = []


def offer_octet_stream(response: dict[str, Any]) -> None:
    """Offer every binary representation (a PDF) as ``application/octet-stream`` too.

    Generators map that media type to bytes with no configuration, but know no ``application/pdf``;
    ``OmsRoute`` serves the same bytes under that type to a client that asks for it (``Accept``).
    """
    content = response.get("content", {})
    binary = [media["schema"] for media in content.values() if _is_binary(media.get("schema", {}))]
    if binary and OCTET_STREAM not in content:
        content[OCTET_STREAM] = {"schema": binary[0]}


def binary_media_types(responses: dict[int | str, dict[str, Any]]) -> frozenset[str]:
    """The media types that a route's ``responses=`` declares as binary for a 2xx status."""
    return frozenset(
        media_type
        for status, response in responses.items()
        if str(status).startswith("2")
        for media_type, media in response.get("content", {}).items()
        if _is_binary(media.get("schema", {}))
    )


def _is_binary(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "string" and schema.get("format") == "binary"


def spec_json(app: FastAPI) -> str:
    """The OpenAPI document as committed in ``openapi/openapi.json`` (stable formatting)."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"
