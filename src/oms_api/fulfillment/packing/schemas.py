"""HTTP contract of packing: box types, box selection, packages and scans."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from oms_api.kit.schemas import SINGLE_LINE, Code, Money, Name, OutModel, Page, StrictModel

Ref = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=SINGLE_LINE), Field(description="Code or id")
]
InnerMillimetres = Annotated[int, Field(ge=1, le=10_000, description="Inner size in millimetres")]
Grams = Annotated[int, Field(ge=0, le=1_000_000)]
MAX_BOX_TYPES = 5


class BoxTypeCreate(StrictModel):
    warehouse: Ref
    code: Code
    name: Name
    inner_length_mm: InnerMillimetres
    inner_width_mm: InnerMillimetres
    inner_height_mm: InnerMillimetres
    max_weight_g: Annotated[int, Field(ge=1, le=1_000_000, description="Content weight the box carries")]
    tare_weight_g: Grams = Field(0, description="Weight of the empty box")
    cost: Money = Field(description="What one box costs (material and handling); the selection minimises it")
    active: bool = True


class BoxTypeUpdate(StrictModel):
    name: Name | None = None
    inner_length_mm: InnerMillimetres | None = None
    inner_width_mm: InnerMillimetres | None = None
    inner_height_mm: InnerMillimetres | None = None
    max_weight_g: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    tare_weight_g: Grams | None = None
    cost: Money | None = None
    active: bool | None = None

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class BoxType(OutModel):
    id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    code: str
    name: str
    inner_length_mm: int
    inner_width_mm: int
    inner_height_mm: int
    max_weight_g: int
    tare_weight_g: int
    cost: Money
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class BoxTypeList(Page[BoxType]):
    pass


# --- selection -------------------------------------------------------------------------------------------------


class Point(OutModel):
    x: int
    y: int
    z: int


class Size(OutModel):
    length: int
    width: int
    height: int


class PlacedUnit(OutModel):
    """One unit in a box: where its corner is and its size as rotated (mm, along the box's length/width/height)."""

    shipment_line_id: uuid.UUID
    sku: str
    position: Point
    size: Size


class LineQuantity(OutModel):
    shipment_line_id: uuid.UUID
    sku: str
    quantity: int


class SelectedBox(OutModel):
    box_type: str
    box_type_id: uuid.UUID
    cost: Money
    content_weight_g: int
    gross_weight_g: int
    fill_ratio: float = Field(description="Units' volume over the box's inner volume")
    contents: list[LineQuantity]
    units: list[PlacedUnit]


class UnfittedUnits(OutModel):
    shipment_line_id: uuid.UUID
    sku: str
    quantity: int
    reason: str = Field(description="too_large (no box holds it in any rotation), too_heavy, or no_boxes")


class BoxSelection(OutModel):
    shipment_id: uuid.UUID
    boxes: list[SelectedBox]
    total_cost: Money | None
    unfitted: list[UnfittedUnits]
    candidates_tried: int = Field(description="Packings the search evaluated")


# --- packages --------------------------------------------------------------------------------------------------


class PackagesCreate(StrictModel):
    """Either ``from_selection`` (run the box selection and plan each box's contents) or explicit ``box_types``."""

    from_selection: bool = False
    box_types: Annotated[list[Ref], Field(min_length=1, max_length=50)] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PackagesCreate:
        if self.from_selection == (self.box_types is not None):
            raise ValueError("give from_selection: true or box_types, not both")
        return self


class Package(OutModel):
    id: uuid.UUID
    shipment_id: uuid.UUID
    box_type: str | None
    box_type_id: uuid.UUID | None
    weight_g: int = Field(description="Gross weight so far: the empty box plus the units scanned in")
    tracking_number: str | None
    planned: list[LineQuantity] = Field(description="What the box selection put in it (empty: not planned)")
    items: list[LineQuantity] = Field(description="Units scanned in")
    sealed_at: datetime | None
    created_at: datetime


class PackagesCreated(OutModel):
    shipment_id: uuid.UUID
    data: list[Package]
    unfitted: list[UnfittedUnits]


class PackageList(OutModel):
    data: list[Package]


class ScanBody(StrictModel):
    barcode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SINGLE_LINE)]
    quantity: Annotated[int, Field(ge=1, le=1_000, description="Units scanned at once (default 1)")] = 1


class ScanResult(OutModel):
    package: Package
    shipment_line_id: uuid.UUID
    sku: str
    sealed: bool = Field(description="The package closed with this scan")
    shipment_status: str
    shipment_packed: bool = Field(description="Every unit of the shipment is packed")
