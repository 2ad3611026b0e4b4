"""HTTP contract of taxes: tax categories and tax rates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from oms_api.kit.schemas import Name, OutModel, Page, StrictModel, Text, check_country

TaxCategoryCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_]*$"),
    Field(description="A tax category's code: lower-case letters, digits and _", examples=["reduced"]),
]
Country = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    AfterValidator(check_country),
    Field(description="ISO 3166-1 alpha-2", examples=["DE"]),
]
Region = Annotated[
    str,
    StringConstraints(min_length=1, max_length=10, pattern=r"^[A-Z0-9][A-Z0-9-]*$"),
    Field(description="A region of the country: a US state (CA) or an ISO 3166-2 code (ES-CN)", examples=["ES-CN"]),
]
RateFraction = Annotated[
    str,
    StringConstraints(pattern=r"^0(\.[0-9]{1,6})?$"),
    Field(
        description="The rate as a decimal string of a fraction (0.19 is 19 %): at least 0, below 1, at most six "
        "decimals",
        examples=["0.19"],
    ),
]


class TaxCategoryCreate(StrictModel):
    code: TaxCategoryCode
    name: Name
    description: Text | None = None


class TaxCategory(OutModel):
    id: uuid.UUID
    code: str
    name: str
    description: str | None
    builtin: bool = Field(description="Seeded (standard, reduced, zero, exempt): it cannot be deleted")
    version: int
    created_at: datetime
    updated_at: datetime


class TaxCategoryList(Page[TaxCategory]):
    pass


class TaxRateCreate(StrictModel):
    """A rate of a tax category in a country or one of its regions, valid from ``valid_from`` (inclusive) until
    ``valid_to`` (exclusive: the first day it no longer applies; null: open-ended). To change a rate, end-date it on
    the day its successor starts; two rates of one country, region and category never overlap."""

    country: Country
    region: Region | None = Field(None, description="Only this region of the country; null: the whole country")
    category: TaxCategoryCode
    rate: RateFraction
    name: Name | None = Field(None, description='A label for receipts, e.g. "DE VAT 19%" (made up when absent)')
    valid_from: date
    valid_to: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TaxRateCreate:
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from (it is the first day the rate no longer applies)")
        return self


class TaxRateUpdate(StrictModel):
    """Rename a rate or end-date it (``valid_to``; null re-opens it). Its value, country, region, category and start
    never change: a new rate is a new row, so that what applied on a past day stays on record."""

    name: Name | None = None
    valid_to: date | None = None

    @field_validator("name")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class TaxRate(OutModel):
    """A tax rate, valid from ``valid_from`` (inclusive) until ``valid_to`` (exclusive; null: open-ended)."""

    id: uuid.UUID
    country: str
    region: str | None
    category: str
    rate: str = Field(description="Decimal fraction, e.g. 0.19", examples=["0.19"])
    name: str
    valid_from: date
    valid_to: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class TaxRateList(Page[TaxRate]):
    pass
