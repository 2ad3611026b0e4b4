"""Every router of the service, in the order they appear in the API reference.

Each router carries its full path prefix (``/v1/skus``), so a route's ``path`` is the public
template used in metrics, logs and the OpenAPI document.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute


def all_routers() -> list[APIRouter]:
    from oms_api.accounting.quickbooks_router import router as quickbooks
    from oms_api.accounting.router import router as accounting
    from oms_api.carriers.router import router as carriers
    from oms_api.carts.router import router as carts
    from oms_api.catalog.router import router as catalog
    from oms_api.channels.router import router as channels
    from oms_api.customers.router import router as customers
    from oms_api.documents.router import router as documents
    from oms_api.fulfillment.packing.router import routers as packing
    from oms_api.fulfillment.picking.router import routers as picking
    from oms_api.fulfillment.router import router as fulfilment
    from oms_api.fx.router import router as fx
    from oms_api.health import router as health
    from oms_api.integrations.easypost_router import router as easypost
    from oms_api.integrations.inbound.router import router as inbound
    from oms_api.invoices.receivables_router import router as receivables
    from oms_api.invoices.router import router as invoices
    from oms_api.orders.allocation_router import router as allocation
    from oms_api.orders.router import router as orders
    from oms_api.payments.router import router as payments
    from oms_api.payments.stripe_router import router as stripe
    from oms_api.promises.router import router as promises
    from oms_api.quotes.router import router as quotes
    from oms_api.stock.router import router as stock
    from oms_api.stock.warehouses_router import router as warehouses
    from oms_api.taxes.router import router as taxes
    from oms_api.webhooks.router import event_types_router as event_types
    from oms_api.webhooks.router import router as webhooks

    return [
        catalog,
        warehouses,
        stock,
        customers,
        channels,
        orders,
        allocation,
        carts,
        webhooks,
        event_types,
        fulfilment,
        carriers,
        promises,
        fx,
        taxes,
        payments,
        invoices,
        receivables,
        quotes,
        accounting,
        quickbooks,
        easypost,
        stripe,
        inbound,
        *picking,
        *packing,
        documents,
        health,
    ]


def api_routes(routers: list[APIRouter]) -> list[APIRoute]:
    """The routes of ``routers`` as declared (FastAPI wraps included routers lazily)."""
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
