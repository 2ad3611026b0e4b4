"""Control characters never reach the database: every string input refuses them as a 422 problem, on SQLite and
PostgreSQL (which refuses NUL in text, so each of these was a 500 there).

A property test walks every operation of the live OpenAPI document, as schemathesis would, and puts a control
character into each path parameter, each query parameter and each top-level string field of each JSON body.
The cases the hardening drill found are pinned below it.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from oms_api.app import create_app
from oms_api.kit.errors import PROBLEM_MEDIA_TYPE
from oms_api.settings import Settings
from tests.support.factories import make_channel, make_sku, make_warehouse, receive

ALWAYS_REFUSED = [chr(c) for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]
"""Refused in every string, free text included."""
LINE_BREAKS = ["\t", "\n", "\r"]
"""Refused everywhere but in free text (notes)."""
METHODS = {"get", "post", "put", "patch", "delete"}


@dataclass(frozen=True)
class Input:
    """One string input of one operation: where it goes, and whether only a control character can be wrong."""

    method: str
    path: str
    where: str  # path, query or body
    name: str
    plain: bool  # a plain string: the refusal must be for the control character (no format, enum or union tag)
    path_values: tuple[tuple[str, str], ...]
    body: tuple[tuple[str, str], ...] = ()  # other body fields the input needs (a union's tag)


def _deref(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _string_kind(spec: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """ "plain" for a plain string (or one of a nullable), "other" for a string with a format or values, else None."""
    options = [_deref(spec, s) for s in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]]
    strings = [s for s in options if s.get("type") == "string"]
    if not strings:
        return None
    return "plain" if all("format" not in s and "enum" not in s for s in strings) else "other"


def _body_variants(spec: dict[str, Any], operation: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """The JSON body's object schemas (each member of a union), each with the tag its union needs."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return []
    schema = _deref(spec, content["schema"])
    tag = schema.get("discriminator", {})
    variants = []
    for member in schema.get("oneOf", []) + schema.get("anyOf", []) or [schema]:
        resolved = _deref(spec, member)
        if "properties" not in resolved:
            continue
        fixed = {}
        if tag:
            by_ref = {ref: value for value, ref in tag.get("mapping", {}).items()}
            fixed = {tag["propertyName"]: by_ref[member["$ref"]]}
        variants.append((resolved, fixed))
    return variants


@functools.cache
def string_inputs() -> tuple[Input, ...]:
    """Every path parameter, query parameter and top-level JSON body string of every operation of the live app
    (its OpenAPI document is built once for both databases: it takes seconds)."""
    spec = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi()
    inputs = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            params = operation.get("parameters", [])
            values = tuple(
                (p["name"], "1" if p["schema"].get("type") == "integer" else str(uuid.uuid4()))
                for p in params
                if p["in"] == "path"
            )
            for param in params:
                if param["in"] in {"path", "query"}:
                    inputs.append(Input(method, path, param["in"], param["name"], True, values))
            for schema, fixed in _body_variants(spec, operation):
                for name, prop in schema["properties"].items():
                    kind = _string_kind(spec, prop)
                    if kind is not None and name not in fixed:
                        body = tuple(fixed.items())
                        inputs.append(Input(method, path, "body", name, kind == "plain", values, body))
    return tuple(inputs)


def refused_values(refused: list[str]) -> st.SearchStrategy[str]:
    """Text holding at least one refused character inside it (at an edge, the white space among them is trimmed
    where a field trims, which is fine), and no '/', which would change the route."""
    text = st.text(st.characters(exclude_characters="/", exclude_categories=["Cs"]), max_size=8)
    return st.tuples(st.just("a"), text, st.sampled_from(refused), text, st.just("z")).map("".join)


async def send(api: httpx.AsyncClient, case: Input, value: str) -> httpx.Response:
    path_values = dict(case.path_values)
    params: dict[str, str] = {}
    body: dict[str, Any] | None = dict(case.body) if case.method in {"post", "put", "patch"} else None
    if case.where == "path":
        path_values[case.name] = value
    elif case.where == "query":
        params[case.name] = value
    else:
        assert body is not None
        body[case.name] = value
    url = case.path.format(**{name: quote(v, safe="") for name, v in path_values.items()})
    return await api.request(case.method.upper(), url, params=params, json=body)


def assert_refused(response: httpx.Response, case: Input) -> None:
    assert 400 <= response.status_code < 500, f"{case}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, f"{case}: {response.text}"
    problem = response.json()
    assert response.status_code == 422, f"{case}: {response.text}"
    pointers = {(e["pointer"], e["code"]) for e in problem["errors"]}
    pointer = f"/{case.where}/{case.name}"
    if case.plain:
        assert (pointer, "control_character") in pointers, f"{case}: {problem}"
    else:
        assert any(p == pointer or p.startswith(pointer + "/") for p, _ in pointers), f"{case}: {problem}"


@settings(
    max_examples=1,  # one walk: a value per input, each drawn afresh (317 draws); a few seconds per database
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.generate],  # a failure names its input; shrinking 300 draws would take minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_string_input_of_any_route_lets_a_control_character_through(
    api: httpx.AsyncClient, data: st.DataObject
) -> None:
    """Each example puts a drawn value into every string input of every operation, one input per request."""
    inputs = string_inputs()
    assert len(inputs) > 250, "the walk found the routes"
    assert {c.where for c in inputs} == {"path", "query", "body"}
    for case in inputs:
        refused = ALWAYS_REFUSED if case.where == "body" else ALWAYS_REFUSED + LINE_BREAKS
        value = data.draw(refused_values(refused), label=f"{case.method} {case.path} {case.where} {case.name}")
        assert_refused(await send(api, case, value), case)


# The cases the drill found, and the rule's edges.


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, Any]:
    channel = await make_channel(api)
    warehouse = await make_warehouse(api)
    sku = await make_sku(api)
    await receive(api, sku["sku"], warehouse["code"], 10)
    return {"channel": channel["code"], "sku": sku["sku"]}


def order_body(shop: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "channel": shop["channel"],
        "external_ref": "HARD-1",
        "currency": "EUR",
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [{"sku": shop["sku"], "quantity": 1, "unit_price": {"amount": "9.99", "currency": "EUR"}}],
        **changes,
    }


def assert_control_character(response: httpx.Response, pointer: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert (pointer, "control_character") in {(e["pointer"], e["code"]) for e in problem["errors"]}, problem


async def test_a_nul_in_an_orders_external_ref_is_a_422(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    response = await api.post("/v1/orders", json=order_body(shop, external_ref="A\x00B"))
    assert_control_character(response, "/body/external_ref")
    assert "A\\u0000B" not in response.text, "the value is not echoed back"
    assert "\x00" not in response.text


@pytest.mark.parametrize(
    ("path", "params", "pointer"),
    [
        ("/v1/orders", {"external_ref": "A\x00"}, "/query/external_ref"),
        ("/v1/skus", {"q": "mug\x00"}, "/query/q"),
        ("/v1/skus", {"barcode": "\x004006381333931"}, "/query/barcode"),
        ("/v1/skus/SKU%00X", {}, "/path/sku"),
        ("/v1/carriers/dhl%00", {}, "/path/carrier"),
        ("/v1/orders", {"tag": "vip\x1b[31m"}, "/query/tag"),
        ("/v1/skus/SKU%C2%85X", {}, "/path/sku"),  # U+0085, a C1 control (NEL)
        ("/v1/skus", {"q\x00": "mug"}, "/query/q\\x00"),  # a parameter's name too
    ],
)
async def test_a_control_character_in_a_filter_or_a_path_is_a_422(
    api: httpx.AsyncClient, path: str, params: dict[str, str], pointer: str
) -> None:
    assert_control_character(await api.get(path, params=params), pointer)


async def test_nested_fields_name_the_field_that_holds_it(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    body = order_body(shop, tags=["ok", "v\x00ip"])
    body["lines"][0]["sku"] = shop["sku"] + "\x00"
    body["shipping_address"]["line1"] = "1 Main St\x85"
    body["customer"] = {"email": "ada@example.com", "first_name": "A\x07da"}
    response = await api.post("/v1/orders", json=body)
    for pointer in ("/body/tags/1", "/body/lines/0/sku", "/body/shipping_address/line1"):
        assert_control_character(response, pointer)
    assert any(e["code"] == "control_character" and "first_name" in e["pointer"] for e in response.json()["errors"])


async def test_free_text_takes_tabs_and_line_breaks_and_nothing_else(
    api: httpx.AsyncClient, shop: dict[str, Any]
) -> None:
    placed = await api.post("/v1/orders", json=order_body(shop, notes="Ring twice.\r\n\tThen wait."))
    assert placed.status_code == 201, placed.text
    assert placed.json()["notes"] == "Ring twice.\r\n\tThen wait."
    refused = await api.post("/v1/orders", json=order_body(shop, external_ref="HARD-2", notes="Ring\x00twice"))
    assert_control_character(refused, "/body/notes")


@pytest.mark.parametrize("value", ["HARD\n2", "HARD\t2", "HARD-2\r"])
async def test_a_one_line_field_refuses_line_breaks(api: httpx.AsyncClient, shop: dict[str, Any], value: str) -> None:
    assert_control_character(
        await api.post("/v1/orders", json=order_body(shop, external_ref=value)), "/body/external_ref"
    )


async def test_a_lone_surrogate_is_a_4xx(api: httpx.AsyncClient, shop: dict[str, Any]) -> None:
    raw = json.dumps(order_body(shop, external_ref="A\ud800")).encode()  # "\ud800", as JSON may carry it
    response = await api.post("/v1/orders", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/body/external_ref"


async def test_a_name_keeps_being_trimmed_of_surrounding_line_breaks(api: httpx.AsyncClient) -> None:
    """Names strip surrounding whitespace: a trailing newline is trimmed, not refused (inside, it is refused)."""
    sku = await make_sku(api, name="Mug\n")
    assert sku["name"] == "Mug"
    assert_control_character(await api.patch(f"/v1/skus/{sku['sku']}", json={"name": "M\nug"}), "/body/name")
