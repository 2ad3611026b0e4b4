"""Event types of packing: standard boxes, packages and pack verification."""

from __future__ import annotations

from pydantic import BaseModel

from oms_api.kit.event_types import declare


class BoxTypeData(BaseModel):
    id: str
    warehouse_id: str
    code: str
    name: str
    inner_length_mm: int
    inner_width_mm: int
    inner_height_mm: int
    max_weight_g: int
    tare_weight_g: int
    cost_minor: int
    currency: str
    active: bool
    version: int


class PackageData(BaseModel):
    id: str
    shipment_id: str
    box_type_id: str | None
    weight_g: int
    sealed: bool
    planned: dict[str, int]
    scanned: dict[str, int]


class ItemScannedData(BaseModel):
    package_id: str
    shipment_id: str
    shipment_line_id: str
    sku: str
    quantity: int
    packed_quantity: int


declare("box_type.created", "A standard box was added to a warehouse", BoxTypeData)
declare("box_type.updated", "A standard box was changed or retired", BoxTypeData)
declare("package.created", "A package (one box) was opened for a shipment", PackageData)
declare("package.item_scanned", "A unit was scanned into a package (pack verification)", ItemScannedData)
declare("package.sealed", "A package was closed: every unit planned for it is in", PackageData)
