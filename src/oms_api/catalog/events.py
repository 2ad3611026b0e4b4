"""SKU event types (declared for the catalogue)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from oms_api.kit.event_types import declare


class SkuEventData(BaseModel):
    id: uuid.UUID
    sku: str
    name: str
    barcode: str | None
    active: bool
    tax_category: str
    version: int


SKU_CREATED = declare("sku.created", "A SKU was added to the catalog.", SkuEventData)
SKU_UPDATED = declare("sku.updated", "A SKU changed (name, barcode, sizes, active…).", SkuEventData)
