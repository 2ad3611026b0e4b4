"""Property-based API testing from the committed spec: no input makes a 5xx or a response the spec does not allow.

Schemathesis generates requests for every operation of ``openapi/openapi.json`` (the file clients use, not
the live spec) and sends them in-process to the app with an admin key. Each operation gets its own freshly
seeded SQLite database, so what one operation finds never depends on what another wrote before it (or on
how xdist shares operations out). Path parameters are often swapped for the codes and ids of the seeded
rows, so reads and changes hit real data too.

Budget: the coverage phase (every boundary the schema defines) runs positive cases only; fuzzing runs
positive and negative cases, 25 per operation, derandomized.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from oms_api.app import create_app
from oms_api.kit.auth import Scope
from oms_api.settings import Settings
from tests.conftest import KeyMaker, blocking
from tests.contract.conftest import SPEC_PATH, committed_spec, operation_ids
from tests.support import factories

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Codes and ids of the current operation's seeded rows (set by the `seeded` fixture, read while generating).
SEEDED: list[str] = []


@dataclass(frozen=True)
class KnownBug:
    """A defect in src that schemathesis found. Its inputs are left out of the run, and a strict xfail test
    below reproduces it, so fixing the bug turns that test into an XPASS failure: then delete both."""

    method: str
    path: str
    matches: Callable[[Case[Any]], bool]
    reason: str


# e.g. KnownBug("PATCH", "/v1/skus/{sku}", lambda case: ..., "catalog/service.py update_sku: ... -> 500")
KNOWN_BUGS: list[KnownBug] = []

config = schemathesis.Config.from_dict(
    {
        "seed": 20261125,
        "generation": {"mode": "all", "max-examples": 25, "deterministic": True},
        "phases": {"coverage": {"generation": {"mode": "positive"}}},
    }
)
schema = schemathesis.openapi.from_path(SPEC_PATH, config=config)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Often point every path parameter at a seeded row (by code or id)."""
    if not SEEDED or not path_parameters:
        return st.just(path_parameters)
    seeded = st.fixed_dictionaries({name: st.sampled_from(SEEDED) for name in path_parameters})
    return st.one_of(seeded, st.just(path_parameters))


async def _seed(app: FastAPI, admin_key: str) -> list[str]:
    """A SKU, a warehouse with stock, a channel, a customer and an order, through whichever endpoints exist."""
    ops = operation_ids(committed_spec())
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {admin_key}"}
    rows: list[dict[str, Any]] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test", headers=headers) as api:
        sku = await factories.make_sku(api)
        rows.append(sku)
        if "warehouses_create" in ops:
            warehouse = await factories.make_warehouse(api)
            rows.append(warehouse)
            if "stock_movements_create" in ops:
                rows.append(await factories.receive(api, sku["sku"], warehouse["code"], 10))
        if "customers_create" in ops:
            rows.append(await factories.make_customer(api))
        if "channels_create" in ops:
            channel = await factories.make_channel(api)
            rows.append(channel)
            if "orders_create" in ops and "stock_movements_create" in ops:
                rows.append(await _place_order(api, channel["code"], sku["sku"]))
    values = itertools.chain.from_iterable((row.get("id"), row.get("code"), row.get("sku")) for row in rows)
    return sorted({str(v) for v in values if v})


async def _place_order(api: httpx.AsyncClient, channel: str, sku: str) -> dict[str, Any]:
    body = {
        "channel": channel,
        "external_ref": "SEED-1",
        "currency": "EUR",
        "customer": {"email": "seed@example.com", "first_name": "Ada", "last_name": "Lovelace"},
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [{"sku": sku, "quantity": 1, "unit_price": {"amount": "9.99", "currency": "EUR"}}],
    }
    response = await api.post("/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


@dataclass
class Seeded:
    app: FastAPI
    admin_key: str


@pytest.fixture
def seeded(sqlite_template: Path, tmp_path: Path) -> Iterator[Seeded]:
    """A fresh seeded database and app for one operation."""
    path = tmp_path / "oms.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    app = create_app(Settings(database_url=url, log_level="error"))
    result: list[Seeded] = []
    values: list[str] = []

    async def seed() -> None:
        key = await KeyMaker(url)(Scope.ADMIN.value, name="schemathesis")
        result.append(Seeded(app, key))
        values.extend(await _seed(app, key))

    blocking(seed())
    SEEDED[:] = values
    yield result[0]
    SEEDED[:] = []
    blocking(app.state.db.engine.dispose())


def _known_bug(case: Case[Any]) -> bool:
    return any(b.method == case.method.upper() and b.path == case.path and b.matches(case) for b in KNOWN_BUGS)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_no_input_breaks_the_api_or_its_spec(case: Case[Any], seeded: Seeded) -> None:
    if _known_bug(case):
        return  # reproduced by its own strict-xfail test (see KnownBug)
    case.call_and_validate(app=seeded.app, headers={"Authorization": f"Bearer {seeded.admin_key}"}, checks=CHECKS)


# Regressions: cases schemathesis once found, pinned so that they do not depend on what it generates next time.


async def test_patching_a_sku_with_null_dimensions_is_a_422_not_a_500(seeded: Seeded) -> None:
    """Found by schemathesis: nulls reached NOT NULL columns (IntegrityError, 500)."""
    transport = httpx.ASGITransport(app=seeded.app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {seeded.admin_key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test", headers=headers) as api:
        sku = await factories.make_sku(api)
        response = await api.patch(f"/v1/skus/{sku['id']}", json={"weight_g": None, "active": None})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_listing_orders_of_an_unknown_channel_answers_a_documented_status(seeded: Seeded) -> None:
    """Found by schemathesis: an undeclared 404."""
    documented = committed_spec()["paths"]["/v1/orders"]["get"]["responses"]
    transport = httpx.ASGITransport(app=seeded.app)
    headers = {"Authorization": f"Bearer {seeded.admin_key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test", headers=headers) as api:
        response = await api.get("/v1/orders", params={"channel": "no-such-channel"})
    assert str(response.status_code) in documented, response.text
