"""``create_app()``: middleware, error handlers, health endpoints and every router under ``/v1``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute

from oms_api import __version__
from oms_api.allocation.geo import geocoder
from oms_api.bootstrap import bootstrap
from oms_api.kit import secrets
from oms_api.kit.admission import Limits
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.limits import LimitsMiddleware
from oms_api.kit.logging import configure_logging
from oms_api.kit.middleware import RequestContextMiddleware
from oms_api.kit.openapi import build_openapi
from oms_api.kit.problems import install_problem_handlers
from oms_api.routers import all_routers, api_routes
from oms_api.settings import Settings, get_settings
from oms_api.webhooks.openapi import register as register_webhooks

TAGS = [
    {"name": "catalog", "description": "SKUs: what can be sold, with barcodes, weights and sizes"},
    {"name": "warehouses", "description": "Stock locations with coordinates and priority"},
    {"name": "stock", "description": "Stock levels, the movement ledger and availability"},
    {"name": "customers", "description": "Customers with addresses, tags and their orders"},
    {"name": "channels", "description": "Sales channels: web, marketplace, pos, phone…"},
    {"name": "orders", "description": "Order placement with stock reservation, lifecycle and history"},
    {"name": "carts", "description": "Carts that hold their stock until checkout, expiry or abandonment"},
    {"name": "webhooks", "description": "Signed event delivery to partners: endpoints, deliveries, the catalogue"},
    {"name": "integrations", "description": "Storefront orders in: Shopify and WooCommerce webhooks, inbound events"},
    {"name": "fulfilment", "description": "Shipments per warehouse: lifecycle, rates, tracking; delivery promises"},
    {"name": "carriers", "description": "Carriers and services with rate tables (zones, weight brackets, cut-offs)"},
    {"name": "taxes", "description": "Tax categories of SKUs and tax rates by country, region and date"},
    {"name": "payments", "description": "Payments from authorisation to refund: an append-only ledger per payment"},
    {"name": "invoices", "description": "Legal entities, invoices and credit notes with gap-free numbers, e-invoices"},
    {"name": "quotes", "description": "B2B quotes: negotiated prices, held stock, acceptance into an order, PDF"},
    {"name": "accounting", "description": "Chart of accounts, the double-entry journal, trial balance, exports"},
    {"name": "fx", "description": "Exchange rates per date (ECB reference rates or your own) and conversions"},
    {"name": "picking", "description": "Warehouse zones, bins and SKU bins; pick lists (single, batch, zone, wave)"},
    {"name": "packing", "description": "Standard boxes, 3-D box selection, packages and pack verification by scan"},
    {"name": "documents", "description": "Shipping labels (PDF and ZPL), packing slips and receipts"},
    {"name": "health", "description": "Liveness, readiness and metrics"},
]

DESCRIPTION = """Headless order management: capture orders from every channel, keep one true view of stock
across warehouses, and never oversell.

Conventions: authenticate with `Authorization: Bearer <api key>`; errors are RFC 9457
`application/problem+json` with a stable `code`; POST accepts `Idempotency-Key`; mutable resources carry
`version` and an `ETag`, and changes accept `If-Match`; lists are cursor-paginated; money is
`{"amount": "12.50", "currency": "EUR"}`. Each API key has a rate limit: its answers carry the
`RateLimit-Policy` and `RateLimit` headers (draft-ietf-httpapi-ratelimit-headers-10), and a key over its limit
gets 429 with `Retry-After`. A body larger than its route accepts is 413, and is never read."""

# Relative, so Swagger UI and generated clients talk to whichever host serves the document; SDK users pass
# their own base URL.
SERVERS = [{"url": "/", "description": "The server that serves this document"}]
CONTACT = {"name": "oms-api maintainers"}


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    bootstrap()
    configure_logging(settings.log_level, settings.log_json)
    secrets.install(settings)  # no key on PostgreSQL: refused here, before anything is served
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    limits = Limits(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Build the sourcing geocoder's index (about a second) while the server starts, in a thread, rather
        # than under the first orders; a request that needs it before it is ready waits for the same build.
        building = asyncio.get_running_loop().run_in_executor(None, geocoder().warm_up)
        secrets.active()  # on SQLite without a key, the key file is read (or made, and logged) now
        yield
        await limits.close()
        await engine.dispose()
        await building

    app = FastAPI(
        title="oms-api",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        servers=SERVERS,
        contact=CONTACT,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    app.state.db = Database(engine, session_factory(engine))
    app.state.limits = limits
    app.add_middleware(  # inside RequestContextMiddleware, so that a 413 is logged with its request id
        LimitsMiddleware,
        default=settings.body_limit_bytes,
        bulk=settings.body_limit_bulk_bytes,
        inbound=settings.body_limit_inbound_bytes,
    )
    app.add_middleware(RequestContextMiddleware)
    install_problem_handlers(app)
    routers = all_routers()
    app.router.routes.extend(_shared_routes(routers))

    def openapi() -> dict[str, Any]:
        return build_openapi(app, api_routes(routers))

    register_webhooks(app)
    app.openapi = openapi  # type: ignore[method-assign]
    return app


_SHARED_ROUTES: list[BaseRoute] = []


def _shared_routes(routers: list[APIRouter]) -> list[BaseRoute]:
    """The API's routes, built once per process and shared by every app made in it (each test makes one).

    Including a router makes FastAPI build every route's validation models again: a third of a second per app for
    300 routes. The routes hold no state of an app (handlers find the app through the request), so one set serves
    them all; ``app.dependency_overrides`` is therefore not consulted, and nothing here uses it."""
    if not _SHARED_ROUTES:
        holder = APIRouter(generate_unique_id_function=_operation_id)
        for router in routers:
            holder.include_router(router)
        _SHARED_ROUTES.extend(holder.routes)
    return _SHARED_ROUTES


def _operation_id(route: APIRoute) -> str:
    """SDK-friendly operation ids: the endpoint's function name (``orders_create``)."""
    return route.name
