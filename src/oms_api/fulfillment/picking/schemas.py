"""HTTP contract of picking: zones, bin locations, SKU bins and pick lists."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, field_validator, model_validator

from oms_api.fulfillment.picking.domain import DEFAULT_BATCH_ORDERS, MAX_BATCH_ORDERS, Method
from oms_api.kit.schemas import SINGLE_LINE, Code, Name, OutModel, Page, StrictModel

Ref = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=SINGLE_LINE), Field(description="Code or id")
]
Sequence_ = Annotated[int, Field(ge=0, le=100_000, description="Walking order: lower is visited first")]
Aisle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    Field(description="Aisle name; sorted naturally (A2 before A10)", examples=["A12"]),
]
Position = Annotated[int, Field(ge=0, le=100_000, description="Bay along the aisle, counted from its front")]
Level = Annotated[int, Field(ge=0, le=1_000, description="Shelf level, 0 = floor")]


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the range of dates this API stores") from exc


UtcTimestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("cannot be null; leave the field out to keep its value")
    return value


# --- zones -----------------------------------------------------------------------------------------------------


class ZoneCreate(StrictModel):
    code: Code
    name: Name
    sequence: Sequence_ = 0


class ZoneUpdate(StrictModel):
    name: Name | None = None
    sequence: Sequence_ | None = None

    @field_validator("name", "sequence")
    @classmethod
    def _keep(cls, value: object) -> object:
        return _not_null(value)


class Zone(OutModel):
    id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    code: str
    name: str
    sequence: int
    version: int
    created_at: datetime
    updated_at: datetime


class ZoneList(Page[Zone]):
    pass


# --- bins ------------------------------------------------------------------------------------------------------


class BinLocationCreate(StrictModel):
    warehouse: Ref
    zone: Ref = Field(description="The zone's code in this warehouse, or its id")
    code: Code
    aisle: Aisle
    position: Position = 0
    level: Level = 0


class BinLocationUpdate(StrictModel):
    zone: Ref | None = None
    aisle: Aisle | None = None
    position: Position | None = None
    level: Level | None = None
    active: bool | None = None

    @field_validator("zone", "aisle", "position", "level", "active")
    @classmethod
    def _keep(cls, value: object) -> object:
        return _not_null(value)


class BinLocation(OutModel):
    id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    zone: str
    zone_id: uuid.UUID
    code: str
    aisle: str
    position: int
    level: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class BinLocationList(Page[BinLocation]):
    pass


# --- SKU bins --------------------------------------------------------------------------------------------------


class SkuBinAssign(StrictModel):
    sku: Ref
    warehouse: Ref
    bin: Ref = Field(description="The bin's code in this warehouse, or its id")


class SkuBin(OutModel):
    id: uuid.UUID
    sku: str
    sku_id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    bin: str
    bin_id: uuid.UUID
    zone: str
    created_at: datetime
    updated_at: datetime


class SkuBinList(Page[SkuBin]):
    pass


# --- pick lists ------------------------------------------------------------------------------------------------


class PickWindow(StrictModel):
    """Shipments released (created) in ``[start, end)``; an open start takes everything before ``end``."""

    start: UtcTimestamp | None = None
    end: UtcTimestamp | None = Field(None, description="Defaults to now")

    @model_validator(mode="after")
    def _ordered(self) -> PickWindow:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class PickListGenerate(StrictModel):
    warehouse: Ref
    method: Method
    max_orders: Annotated[int, Field(ge=1, le=MAX_BATCH_ORDERS)] = Field(
        DEFAULT_BATCH_ORDERS, description="batch and zone: how many shipments one round takes (oldest first)"
    )
    shipment: uuid.UUID | None = Field(None, description="single: the shipment to pick (default: the oldest waiting)")
    window: PickWindow | None = Field(None, description="wave: which shipments the wave takes (default: all until now)")
    consolidation_point: Code | None = Field(
        None, description="wave: where every zone's totes meet (default CONSOLIDATION)"
    )

    @model_validator(mode="after")
    def _method_options(self) -> PickListGenerate:
        if self.shipment is not None and self.method is not Method.SINGLE:
            raise ValueError("shipment is only for the single method")
        if (self.window is not None or self.consolidation_point is not None) and self.method is not Method.WAVE:
            raise ValueError("window and consolidation_point are only for the wave method")
        return self


class PickConfirm(StrictModel):
    barcode: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SINGLE_LINE)]
    quantity: Annotated[int, Field(ge=0, le=100_000, description="Units picked; fewer than asked is a short pick")]


class PickListLine(OutModel):
    id: uuid.UUID
    sequence: int
    tote: int
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    shipment_line_id: uuid.UUID
    sku: str
    sku_id: uuid.UUID
    name: str
    barcode: str | None
    bin: str | None
    bin_id: uuid.UUID | None
    zone: str | None
    aisle: str | None
    quantity: int
    picked_quantity: int
    short_quantity: int
    status: str = Field(description="open, picked or short")
    confirmed_at: datetime | None


class PickOrder(OutModel):
    """A shipment on the list; ``complete`` once every zone has confirmed all its lines."""

    tote: int
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    lines: int
    confirmed: int
    complete: bool


class PickList(OutModel):
    id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    method: str
    status: str = Field(description="open, in_progress or completed")
    group_id: uuid.UUID = Field(description="Shared by the lists generated together (a zone run or a wave)")
    zone: str | None
    zone_id: uuid.UUID | None
    consolidation_point: str | None
    window_start: datetime | None
    window_end: datetime | None
    orders: list[PickOrder]
    lines: list[PickListLine]
    version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class PickListSummary(OutModel):
    id: uuid.UUID
    warehouse_id: uuid.UUID
    method: str
    status: str
    group_id: uuid.UUID
    zone_id: uuid.UUID | None
    consolidation_point: str | None
    version: int
    created_at: datetime
    completed_at: datetime | None


class PickListPage(Page[PickListSummary]):
    pass


class GeneratedPickLists(OutModel):
    group_id: uuid.UUID
    method: str
    data: list[PickList]
