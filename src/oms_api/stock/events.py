"""Warehouse and stock event types (declared for the catalogue)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from oms_api.kit.event_types import declare


class WarehouseEventData(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    address: dict[str, Any] | None = Field(description="Postal address (as in GET /v1/warehouses/{warehouse})")
    latitude: float | None
    longitude: float | None
    active: bool
    priority: int
    serves_countries: list[str] = Field(default_factory=list, description="Countries it ships to; empty: everywhere")
    version: int


class StockChangedData(BaseModel):
    """One stock level after a movement; the event's ``reason`` (in order history) names the movement type."""

    sku: str
    sku_id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    on_hand: int = Field(description="Units physically in the warehouse")
    reserved: int = Field(description="Units held for orders and carts")
    available: int = Field(description="on_hand - reserved")


class StockLevelEventData(BaseModel):
    id: uuid.UUID
    sku: str
    sku_id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    reorder_point: int | None
    safety_stock: int
    version: int


WAREHOUSE_CREATED = declare("warehouse.created", "A warehouse was created.", WarehouseEventData)
WAREHOUSE_UPDATED = declare("warehouse.updated", "A warehouse changed.", WarehouseEventData)
STOCK_CHANGED = declare(
    "stock.changed",
    "A stock level changed: a receipt, adjustment, transfer, reservation, release or shipment.",
    StockChangedData,
)
STOCK_LEVEL_UPDATED = declare(
    "stock_level.updated", "A stock level's settings (reorder point, safety stock) changed.", StockLevelEventData
)
