"""Liveness, readiness and Prometheus metrics.

``/healthz`` and ``/readyz`` need no API key: load balancers and orchestrators probe them without credentials,
and they tell nothing about the business (``/readyz`` names the schema revision, which the release already
makes public). ``/metrics`` does: per-route traffic, orders placed and refused, process memory. It needs a key
with ``metrics:read`` (Prometheus sends it as a bearer token), unless ``OMS_METRICS_PUBLIC`` opens it to a
trusted network.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import text

from oms_api.kit.auth import Principal, Scope, require_unless
from oms_api.kit.errors import OmsError
from oms_api.kit.metrics import render
from oms_api.kit.migrations import current_revision, head_revision
from oms_api.kit.openapi import errors
from oms_api.kit.routing import OmsRoute

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    migration: str | None
    expected_migration: str | None


@router.get("/healthz", response_model=Health)
async def health_live() -> Health:
    """The process is alive (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=errors(503))
async def health_ready(request: Request) -> Readiness:
    """The database answers and its schema is at the newest migration."""
    engine = request.app.state.db.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            current = await conn.run_sync(current_revision)
    except Exception as exc:
        raise OmsError(
            f"Database unreachable: {type(exc).__name__}",
            status=503,
            code="database_unavailable",
            title="Not ready",
        ) from exc
    expected = head_revision()
    if current != expected:
        raise OmsError(
            f"Database schema is at {current}, expected {expected}: run `oms-api migrate`",
            status=503,
            code="migrations_pending",
            title="Not ready",
        )
    return Readiness(status="ready", database="ok", migration=current, expected_migration=expected)


async def health_metrics(_: Principal | None = require_unless(Scope.METRICS_READ, "metrics_public")) -> Response:
    """Prometheus metrics: requests and latency by route and status, orders placed and refused, the worker's
    backlog. Open to anyone when `OMS_METRICS_PUBLIC` is on (trusted networks only)."""
    body, content_type = render()
    return Response(body, media_type=content_type)


# OmsRoute: the API key is looked up in the request's session, which OmsRoute opens.
router.add_api_route(
    "/metrics",
    health_metrics,
    methods=["GET"],
    response_class=Response,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus exposition format",
        }
    },
    route_class_override=OmsRoute,
)
