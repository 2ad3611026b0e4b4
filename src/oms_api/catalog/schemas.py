"""HTTP contract of the catalog."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from oms_api.catalog.domain import normalise_gtin
from oms_api.kit.schemas import Code, Name, OutModel, Page, StrictModel, Text
from oms_api.taxes.schemas import TaxCategoryCode

Barcode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=18),
    Field(description="GTIN-8, -12 (UPC), -13 (EAN) or -14 with a valid check digit", examples=["4006381333931"]),
]
Millimetres = Annotated[int, Field(ge=0, le=100_000)]
TaxCategoryField = Annotated[
    TaxCategoryCode,
    Field(description="The tax category the SKU is taxed in (GET /v1/tax-categories): standard, reduced, zero…"),
]


class SkuBase(StrictModel):
    name: Name
    description: Text | None = None
    barcode: Barcode | None = None
    weight_g: Annotated[int, Field(ge=0, le=10_000_000, description="Shipping weight in grams")] = 0
    length_mm: Millimetres = 0
    width_mm: Millimetres = 0
    height_mm: Millimetres = 0
    active: bool = True
    tax_category: TaxCategoryField = "standard"

    @field_validator("barcode")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        return normalise_gtin(value) if value is not None else None


class SkuCreate(SkuBase):
    sku: Code


class SkuUpdate(StrictModel):
    """Fields to change; absent fields stay as they are."""

    name: Name | None = None
    description: Text | None = None
    barcode: Barcode | None = None
    weight_g: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    active: bool | None = None
    tax_category: TaxCategoryField | None = None

    @field_validator("barcode")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        return normalise_gtin(value) if value is not None else None

    @field_validator("name", "weight_g", "length_mm", "width_mm", "height_mm", "active", "tax_category")
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Omit a field to keep it; these cannot be emptied (null is only meaningful for optional text)."""
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class Sku(OutModel):
    id: uuid.UUID
    sku: str
    name: str
    description: str | None
    barcode: str | None
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    active: bool
    tax_category: str
    version: int
    created_at: datetime
    updated_at: datetime


class SkuList(Page[Sku]):
    pass
