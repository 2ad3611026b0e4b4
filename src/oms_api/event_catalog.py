"""Imports every context's ``events`` module so that ``kit.event_types.CATALOGUE`` is complete."""

from oms_api.allocation import events as allocation_events  # noqa: F401
from oms_api.carriers import events as carriers_events  # noqa: F401
from oms_api.carts import events as carts_events  # noqa: F401
from oms_api.catalog import events_catalog as catalog_events  # noqa: F401
from oms_api.channels import events_catalog as channels_events  # noqa: F401
from oms_api.customers import events_catalog as customers_events  # noqa: F401
from oms_api.fulfillment import events as fulfillment_events  # noqa: F401
from oms_api.kit.event_types import CATALOGUE, EventType
from oms_api.orders import events_catalog as orders_events  # noqa: F401
from oms_api.packing import events as packing_events  # noqa: F401
from oms_api.picking import events as picking_events  # noqa: F401
from oms_api.stock import events_catalog as stock_events  # noqa: F401
from oms_api.webhooks import events as webhooks_events  # noqa: F401

__all__ = ["CATALOGUE", "EventType"]
