"""The committed spec keeps what OpenAPI tools demand: Spectral's ``spectral:oas`` rules and SDK generators.

``.ci/run`` lints the committed document with the Spectral version pinned in ``tools/spectral`` (warnings fail)
and ``test_sdk.py`` generates a client with no configuration; these tests name the rules that were broken
(scopes on a bearer requirement, no servers, no contact, PDFs no generator reads) so they fail without Node too,
and pin the linter's set-up so nobody quiets it by editing the ruleset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.contract.conftest import ROOT, committed_spec

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
OCTET_STREAM = "application/octet-stream"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return committed_spec()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every operation, paths and webhooks alike, with a label for messages."""
    for section in ("paths", "webhooks"):
        for path, item in spec.get(section, {}).items():
            for method, operation in item.items():
                if method in METHODS:
                    yield f"{section} {method.upper()} {path}", operation


def test_scopes_are_listed_only_on_oauth2_or_openid_requirements(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    checked = 0
    for where, operation in operations(spec):
        for requirement in operation.get("security", []):
            for name, scopes in requirement.items():
                assert name in schemes, f"{where}: undeclared security scheme {name}"
                if schemes[name]["type"] not in {"oauth2", "openIdConnect"}:
                    assert scopes == [], f"{where}: a {schemes[name]['type']} requirement cannot list scopes {scopes}"
                    checked += 1
        if operation.get("security") and "HTTPBearer" in operation["security"][0]:
            assert operation.get("x-required-scopes"), f"{where}: the scope moved to x-required-scopes, not away"
    assert checked, "no bearer requirement was checked"


def test_the_document_names_a_server_and_a_contact(spec: dict[str, Any]) -> None:
    assert spec.get("servers"), "Spectral's oas3-api-servers wants at least one server"
    for server in spec["servers"]:
        assert not re.search(r"./$", server["url"]), f"a server URL may not end with a slash: {server['url']}"
        assert "example.com" not in server["url"]
    assert spec["info"].get("contact"), "Spectral's info-contact wants info.contact"


def test_every_operation_has_a_description_and_declared_tags(spec: dict[str, Any]) -> None:
    declared = {tag["name"] for tag in spec.get("tags", [])}
    for where, operation in operations(spec):
        assert operation.get("description", "").strip(), f"{where}: no description (write the endpoint's docstring)"
        assert set(operation.get("tags", [])) <= declared, f"{where}: tags {operation.get('tags')} not declared"


def test_every_binary_response_is_offered_as_octet_stream(spec: dict[str, Any]) -> None:
    """Generators read application/octet-stream as bytes with no configuration; application/pdf they skip."""
    found = 0
    for where, operation in operations(spec):
        for status, response in operation.get("responses", {}).items():
            content = response.get("content", {})
            binary = [t for t, m in content.items() if m.get("schema", {}).get("format") == "binary"]
            if binary and status.startswith("2"):
                found += 1
                assert OCTET_STREAM in content, f"{where} {status}: {binary} is not offered as {OCTET_STREAM}"
                assert content[OCTET_STREAM]["schema"] == {"type": "string", "format": "binary"}
    assert found, "the spec declares no binary response (the PDFs should be)"


def test_the_spectral_ruleset_is_spectral_oas_with_nothing_turned_off() -> None:
    ruleset = yaml.safe_load((ROOT / ".spectral.yaml").read_text(encoding="utf-8"))
    assert ruleset == {"extends": ["spectral:oas"]}, f"keep .spectral.yaml to the full spectral:oas set: {ruleset}"


def test_spectral_is_pinned_to_one_version_by_package_json_and_its_lock() -> None:
    tools = ROOT / "tools" / "spectral"
    wanted = json.loads((tools / "package.json").read_text(encoding="utf-8"))["devDependencies"]
    version = wanted["@stoplight/spectral-cli"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"pin an exact version, not a range: {version}"
    lock = json.loads((tools / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["devDependencies"] == wanted, "package-lock.json is stale: run npm install there"
    assert lock["packages"]["node_modules/@stoplight/spectral-cli"]["version"] == version
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for needed in ("npm ci --prefix tools/spectral", "spectral lint", "--fail-severity=warn", "openapi/openapi.json"):
        assert needed in ci, f".ci/run must install Spectral and lint the committed spec with it: no {needed!r}"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "node_modules/" in ignored
