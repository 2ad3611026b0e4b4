"""Event types of picking: warehouse layout changes, pick lists and what picking found."""

from __future__ import annotations

from pydantic import BaseModel

from oms_api.kit.event_types import declare


class ZoneData(BaseModel):
    id: str
    warehouse_id: str
    code: str
    name: str
    sequence: int
    version: int


class BinLocationData(BaseModel):
    id: str
    warehouse_id: str
    zone_id: str
    code: str
    aisle: str
    position: int
    level: int
    active: bool
    version: int


class SkuBinData(BaseModel):
    id: str
    sku_id: str
    sku: str
    warehouse_id: str
    bin_id: str
    bin: str


class PickListData(BaseModel):
    id: str
    warehouse_id: str
    method: str
    status: str
    group_id: str
    zone: str | None
    consolidation_point: str | None
    shipment_ids: list[str]
    lines: int
    version: int


class PickLineConfirmedData(BaseModel):
    pick_list_id: str
    line_id: str
    shipment_id: str
    shipment_line_id: str
    sku: str
    quantity: int
    picked_quantity: int
    short_quantity: int
    status: str


declare("zone.created", "A warehouse zone was created", ZoneData)
declare("zone.updated", "A warehouse zone was changed", ZoneData)
declare("bin_location.created", "A bin location was created", BinLocationData)
declare("bin_location.updated", "A bin location was changed", BinLocationData)
declare("sku_bin.assigned", "A SKU was given its pick bin in a warehouse", SkuBinData)
declare("sku_bin.unassigned", "A SKU's pick bin assignment was removed", SkuBinData)
declare("pick_list.created", "A pick list was generated for a warehouse", PickListData)
declare("pick_list.line_confirmed", "A picker confirmed a pick-list line by scanning", PickLineConfirmedData)
declare("pick_list.completed", "Every line of a pick list was confirmed", PickListData)
