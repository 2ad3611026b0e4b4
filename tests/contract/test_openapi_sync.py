"""The committed ``openapi/openapi.json`` is the app's spec, and the spec keeps the house rules.

SDKs and client teams build from the committed file, so it must never drift from the code, and every
operation must describe its errors (problem+json), its scope and its idempotency support. Operations a
platform calls and signs (``x-signed-by-platform``: storefront and carrier webhooks) hold no API key, so
they need no scope (nor its 403) and no Idempotency-Key (the platform's delivery id dedupes them); they must
still document the 401 a bad signature gets.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oms_api.integrations.base import SIGNED_BY_PLATFORM
from oms_api.kit.errors import PROBLEM_MEDIA_TYPE
from tests.contract.conftest import REGENERATE_HINT, SPEC_PATH, committed_spec, live_spec_json

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PROBLEM_REF = "#/components/schemas/Problem"


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return committed_spec()


def test_the_committed_spec_equals_the_app_spec(tmp_path: Path) -> None:
    assert SPEC_PATH.exists(), f"openapi/openapi.json is missing: {REGENERATE_HINT}"
    committed = SPEC_PATH.read_text(encoding="utf-8")
    live = live_spec_json(tmp_path)
    if committed != live:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    live.splitlines(keepends=True),
                    "openapi/openapi.json (committed)",
                    "create_app() (live)",
                    n=2,
                )
            )[:80]
        )
        pytest.fail(f"openapi/openapi.json is out of date: {REGENERATE_HINT}.\n{diff}", pytrace=False)


def test_the_spec_is_openapi_3_1(spec: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", spec["openapi"]), spec["openapi"]


def test_operation_ids_are_snake_case_and_unique(spec: dict[str, Any]) -> None:
    ids = [op.get("operationId", "") for _, _, op in operations(spec)]
    bad = [i for i in ids if not re.fullmatch(r"[a-z_]+", i)]
    assert not bad, f"operationIds must match ^[a-z_]+$ (name the endpoint function <resource>_<verb>): {bad}"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate operationIds: {duplicates}"


def test_every_operation_has_tags_and_a_summary_or_description(spec: dict[str, Any]) -> None:
    declared_tags = {tag["name"] for tag in spec.get("tags", [])}
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        assert op.get("tags"), f"{where} has no tags"
        assert set(op["tags"]) <= declared_tags, f"{where} uses undeclared tags {set(op['tags']) - declared_tags}"
        assert op.get("summary") or op.get("description"), f"{where} has neither summary nor description"


def test_every_v1_operation_declares_401_403_and_422_as_problems(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if not path.startswith("/v1"):
            continue
        for status in ("401", "422") if op.get(SIGNED_BY_PLATFORM) else ("401", "403", "422"):
            response = op["responses"].get(status)
            assert response is not None, f"{method.upper()} {path} does not declare {status}"
            assert PROBLEM_MEDIA_TYPE in response.get("content", {}), f"{method.upper()} {path} {status}"


def test_every_error_response_is_a_problem_document(spec: dict[str, Any]) -> None:
    assert "Problem" in spec["components"]["schemas"]
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if status[0] not in "45":
                continue
            content = response.get("content", {})
            assert list(content) == [PROBLEM_MEDIA_TYPE], f"{method.upper()} {path} {status}: {list(content)}"
            assert content[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": PROBLEM_REF}, f"{method.upper()} {path} {status}"
            assert response.get("description"), f"{method.upper()} {path} {status} has no description"


def test_every_v1_operation_requires_a_scope_and_bearer_auth(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if path.startswith("/v1") and not op.get(SIGNED_BY_PLATFORM):
            assert op.get("x-required-scopes"), f"{method.upper()} {path} requires no scope"
            assert op.get("security"), f"{method.upper()} {path} declares no security requirement"


def test_platform_signed_operations_require_no_api_key_scope(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if op.get(SIGNED_BY_PLATFORM):
            assert isinstance(op[SIGNED_BY_PLATFORM], str), f"{method.upper()} {path}: name the signing platform"
            assert not op.get("x-required-scopes"), f"{method.upper()} {path}: a platform holds no API key"


def test_v1_posts_accept_an_idempotency_key(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if path.startswith("/v1") and method == "post" and not op.get(SIGNED_BY_PLATFORM):
            headers = {p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"}
            assert "idempotency-key" in headers, f"POST {path} does not accept Idempotency-Key"


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(spec)))
    missing = sorted(ref for ref in refs if ref.removeprefix("#/components/schemas/") not in schemas)
    assert not missing, f"unresolved $ref: {missing}"


def test_path_parameters_match_the_path_template(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        in_template = set(re.findall(r"{([^}]+)}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
        assert in_template == declared, f"{method.upper()} {path}: template {in_template} vs declared {declared}"
