"""Every table of the service, for Alembic and the schema tests."""

from oms_api.catalog.models import Sku
from oms_api.channels.models import Channel
from oms_api.customers.models import Customer
from oms_api.kit.auth import ApiKey
from oms_api.kit.db import Base
from oms_api.kit.idempotency import IdempotencyKey
from oms_api.kit.outbox import Event
from oms_api.orders.models import Order, OrderLine
from oms_api.stock.models import Reservation, StockLevel, StockMovement, Warehouse

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "Channel",
    "Customer",
    "Event",
    "IdempotencyKey",
    "Order",
    "OrderLine",
    "Reservation",
    "Sku",
    "StockLevel",
    "StockMovement",
    "Warehouse",
    "metadata",
]
