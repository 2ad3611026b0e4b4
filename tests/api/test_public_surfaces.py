"""What anyone can read without an API key: liveness and readiness, and /metrics only when opened on purpose.

``/metrics`` shows traffic per route, orders placed and refused and process memory, so it needs a key with
``metrics:read`` (what Prometheus sends as a bearer token) unless ``OMS_METRICS_PUBLIC`` is on. ``/readyz`` stays
open and names the schema revision (README, "Who may read /metrics and /readyz"): probes carry no credentials,
and a revision tells no more than the release itself.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from oms_api.app import create_app
from oms_api.kit.auth import Scope
from oms_api.kit.migrations import head_revision
from oms_api.settings import Settings
from tests.conftest import KeyMaker

PROBLEM = "application/problem+json"


async def test_metrics_need_an_api_key_with_metrics_read(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM
    assert anonymous.json()["code"] == "missing_api_key"
    assert "oms_http_requests_total" not in anonymous.text

    unknown = await client.get("/metrics", headers={"Authorization": "Bearer oms_not-a-key"})
    assert unknown.status_code == 401

    orders_only = await make_key(Scope.ORDERS_READ.value, name="orders")
    refused = await client.get("/metrics", headers={"Authorization": f"Bearer {orders_only}"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"

    for scopes in ([Scope.METRICS_READ.value], [Scope.ADMIN.value]):
        key = await make_key(*scopes, name="prometheus")
        scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
        assert scraped.status_code == 200, scraped.text
        assert scraped.headers["content-type"].startswith("text/plain")
        assert "oms_http_requests_total" in scraped.text


async def test_a_metrics_key_reads_nothing_else(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    key = await make_key(Scope.METRICS_READ.value, name="prometheus")
    response = await client.get("/v1/orders", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403


async def test_metrics_public_opens_them_to_anyone(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, log_level="warning", metrics_public=True))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms.test") as client:
            scraped = await client.get("/metrics")
    finally:
        await app.state.db.engine.dispose()
    assert scraped.status_code == 200, scraped.text
    assert "oms_http_requests_total" in scraped.text


async def test_health_and_readiness_need_no_key_and_show_only_their_status(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "database": "ok",
        "migration": head_revision(),
        "expected_migration": head_revision(),
    }


async def test_readiness_of_an_unreachable_database_names_no_address_or_password() -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://oms:pw-Seecret-42@127.0.0.1:9/oms_private", log_level="warning"
    )
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://oms.test") as client:
            ready = await client.get("/readyz")
    finally:
        await app.state.db.engine.dispose()
    assert ready.status_code == 503
    assert ready.json()["code"] == "database_unavailable"
    for private in ("pw-Seecret-42", "oms_private", "127.0.0.1", ":9"):
        assert private not in ready.text


def test_the_contract_documents_the_metrics_scope(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    metrics = paths["/metrics"]["get"]
    assert metrics["x-required-scopes"] == [Scope.METRICS_READ.value]
    assert {"401", "403"} <= set(metrics["responses"])
    for open_path in ("/healthz", "/readyz"):
        assert "x-required-scopes" not in paths[open_path]["get"]
