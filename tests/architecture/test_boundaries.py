"""The house rules the import-linter contract enforces, each shown to catch what it should (and the source tree
shown to keep them: ``lint-imports`` runs in CI, these tests run with the suite)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.architecture.boundaries import role, rule_breaks

SRC = Path(__file__).resolve().parents[2] / "src" / "oms_api"
CONTEXTS = ("orders", "stock", "fulfillment", "carts")


def breaks(*imports: tuple[str, str]) -> list[str]:
    return [b.why for b in rule_breaks(imports, "oms_api", CONTEXTS)]


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("oms_api.orders.router", "router"),
        ("oms_api.orders.allocation_router", "router"),
        ("oms_api.stock.reservations_repository", "repository"),
        ("oms_api.orders.placing", "service"),
        ("oms_api.orders.service", "service"),
        ("oms_api.fulfillment.picking.models", "models"),
        ("oms_api.allocation.domain.engine", "domain"),
        ("oms_api.webhooks.openapi", "router"),
    ],
)
def test_a_modules_role_comes_from_its_name(module: str, expected: str) -> None:
    assert role(module) == expected


def test_a_context_may_call_another_contexts_service_schemas_domain_and_events() -> None:
    assert not breaks(
        ("oms_api.carts.holding", "oms_api.stock.service"),
        ("oms_api.carts.schemas", "oms_api.orders.schemas"),
        ("oms_api.fulfillment.handlers", "oms_api.orders.events"),
        ("oms_api.carts.service", "oms_api.stock.domain"),
    )


def test_reaching_into_another_contexts_use_cases_repository_or_tables_is_refused() -> None:
    assert breaks(
        ("oms_api.carts.holding", "oms_api.stock.ledger"),
        ("oms_api.carts.service", "oms_api.stock.repository"),
        ("oms_api.fulfillment.shipments", "oms_api.orders.models"),
    ) == [
        "another context's ledger is not public",
        "another context's repository is not public",
        "another context's models is not public",
    ]


def test_a_repository_may_read_another_contexts_models_as_a_named_read_model() -> None:
    assert not breaks(("oms_api.orders.repository", "oms_api.stock.models"))


def test_lower_roles_never_import_higher_ones() -> None:
    assert breaks(
        ("oms_api.orders.repository", "oms_api.orders.service"),
        ("oms_api.orders.router", "oms_api.orders.repository"),
        ("oms_api.orders.schemas", "oms_api.orders.models"),
        ("oms_api.orders.events", "oms_api.orders.service"),
        ("oms_api.carts.schemas", "oms_api.orders.service"),
    ) == [
        "a repository may not import a service",
        "a router may not import a repository",
        "a schemas may not import a models",
        "a events may not import a service",
        "a schemas may not import a service",
    ]


def test_a_domain_imports_only_its_own_domain_and_kit_money() -> None:
    assert not breaks(
        ("oms_api.orders.domain", "oms_api.kit.money"),
        ("oms_api.fulfillment.picking.domain", "oms_api.fulfillment.picking.domain"),
    )
    assert (
        breaks(
            ("oms_api.orders.domain", "oms_api.kit.db"),
            ("oms_api.carts.domain", "oms_api.stock.domain"),
        )
        == ["a domain module imports only its own domain and kit.money"] * 2
    )


def test_only_routers_use_the_web_framework() -> None:
    assert not breaks(("oms_api.orders.router", "fastapi"))
    assert (
        breaks(("oms_api.orders.placing", "fastapi"), ("oms_api.stock.domain", "starlette"))
        == ["only routers use the web framework"] * 2
    )


def test_repositories_never_commit() -> None:
    """One request is one transaction, committed once by ``kit.routing.OmsRoute`` (or the worker's job)."""
    offenders = []
    for path in SRC.rglob("*repository.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("commit", "rollback"):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


@pytest.mark.slow
def test_the_source_tree_keeps_every_import_contract() -> None:
    root = SRC.parents[1]
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:]
