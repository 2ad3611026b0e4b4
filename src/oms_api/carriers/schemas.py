"""HTTP contract of carriers, their services and rate tables, and rate quotes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, field_validator, model_validator

from oms_api.carriers.domain import WEEKDAYS, ShippingChoice, known_timezone
from oms_api.kit.schemas import (
    Code,
    CurrencyCode,
    Money,
    Name,
    OutModel,
    Page,
    StrictModel,
    check_country,
    check_currency,
)

Weekday = Annotated[str, StringConstraints(pattern="^(" + "|".join(WEEKDAYS) + ")$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(check_country)]
PostalPrefix = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12, pattern=r"^[A-Za-z0-9 -]+$")
]
TransitDays = Annotated[int, Field(ge=0, le=60, description="Business days (Monday to Friday) in transit")]
WeightG = Annotated[int, Field(ge=1, le=1_000_000, description="Grams")]


def _timezone(value: str) -> str:
    if not known_timezone(value):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)")
    return value


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a local time without offset; the service's timezone says where")
    return value


TimeZone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_timezone),
    Field(examples=["Europe/Berlin"]),
]
CutOff = Annotated[
    time,
    AfterValidator(_naive),
    Field(description="Local time (in the service's timezone) before which a ready parcel leaves the same day"),
]


class CarrierKind(StrEnum):
    """Which carrier port rates and tracks it; ``table_rate`` is built in and complete."""

    TABLE_RATE = "table_rate"


class RateIn(StrictModel):
    max_weight_g: WeightG = Field(description="Upper bound of the bracket (inclusive)")
    base: Money
    per_kg: Money | None = Field(
        None, description="Per started kilogram above the previous bracket's bound (default zero)"
    )

    @model_validator(mode="after")
    def _same_currency(self) -> RateIn:
        if self.per_kg is not None and self.per_kg.currency != self.base.currency:
            raise ValueError("base and per_kg must be in the same currency")
        return self


class ZoneIn(StrictModel):
    code: Code
    countries: Annotated[list[Country], Field(min_length=1, max_length=250)]
    postal_prefixes: Annotated[list[PostalPrefix], Field(max_length=1000)] = Field(
        default_factory=list, description="Narrow the zone to these postal-code prefixes (longest match wins)"
    )
    transit_days: TransitDays | None = Field(None, description="Overrides the service's transit days")
    rates: Annotated[list[RateIn], Field(min_length=1, max_length=200)]


class _ServiceFields(StrictModel):
    @field_validator("pickup_days", check_fields=False)
    @classmethod
    def _distinct_days(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each weekday at most once")
        return value


class ServiceCreate(_ServiceFields):
    code: Code
    name: Name
    active: bool = True
    transit_days: TransitDays
    cutoff_time: CutOff = Field(examples=["16:00"])
    timezone: TimeZone
    pickup_days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] = Field(
        default_factory=lambda: list(WEEKDAYS[:5])
    )
    origin_countries: Annotated[list[Country], Field(max_length=250)] = Field(
        default_factory=list, description="Countries it ships from (empty: any)"
    )
    zones: Annotated[list[ZoneIn], Field(max_length=200)] = Field(default_factory=list)


class ServiceUpdate(_ServiceFields):
    """Fields to change; ``zones``, when given, replaces the whole rate table."""

    name: Name | None = None
    active: bool | None = None
    transit_days: TransitDays | None = None
    cutoff_time: CutOff | None = None
    timezone: TimeZone | None = None
    pickup_days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] | None = None
    origin_countries: Annotated[list[Country], Field(max_length=250)] | None = None
    zones: Annotated[list[ZoneIn], Field(max_length=200)] | None = None

    @field_validator(
        "name", "active", "transit_days", "cutoff_time", "timezone", "pickup_days", "origin_countries", "zones"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class CarrierCreate(StrictModel):
    code: Code
    name: Name
    kind: CarrierKind = CarrierKind.TABLE_RATE
    active: bool = True
    services: Annotated[list[ServiceCreate], Field(max_length=20)] = Field(default_factory=list)


class CarrierUpdate(StrictModel):
    name: Name | None = None
    active: bool | None = None

    @field_validator("name", "active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class RateBracket(OutModel):
    currency: str
    max_weight_g: int
    base: Money
    per_kg: Money


class RateZone(OutModel):
    code: str
    countries: list[str]
    postal_prefixes: list[str]
    transit_days: int | None
    rates: list[RateBracket]


class CarrierServiceOut(OutModel):
    id: uuid.UUID
    carrier: str
    code: str
    name: str
    active: bool
    transit_days: int
    cutoff_time: time
    timezone: str
    pickup_days: list[str]
    origin_countries: list[str]
    zones: list[RateZone]
    version: int
    created_at: datetime
    updated_at: datetime


class Carrier(OutModel):
    id: uuid.UUID
    code: str
    name: str
    kind: str
    active: bool
    services: list[CarrierServiceOut]
    version: int
    created_at: datetime
    updated_at: datetime


class CarrierList(Page[Carrier]):
    pass


# --- quotes ---------------------------------------------------------------------------------------------------


class RateDestination(StrictModel):
    country: Country
    postal_code: Annotated[str, StringConstraints(max_length=20, pattern=r"^[A-Za-z0-9 -]*$")] | None = None


class RateQuoteRequest(StrictModel):
    """Price parcels from a warehouse (or an origin country) to a destination with every active service."""

    from_warehouse: Code | None = Field(None, description="Warehouse code or id (its country is the origin)")
    origin_country: Country | None = None
    destination: RateDestination
    parcels: Annotated[list[WeightG], Field(min_length=1, max_length=50)] = Field(description="Parcel weights (g)")
    currency: CurrencyCode
    ready_at: AwareDatetime | None = Field(None, description="When the parcels are ready to leave; defaults to now")
    choice: ShippingChoice = ShippingChoice.CHEAPEST
    deliver_by: date | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)


class QuoteOption(OutModel):
    carrier: str
    service: str
    name: str
    zone: str
    price: Money
    transit_days: int
    ship_date: date
    delivery_date: date
    on_time: bool | None
    recommended: bool


class RateQuoteResult(OutModel):
    currency: str
    choice: ShippingChoice
    deliver_by: date | None
    options: list[QuoteOption] = Field(description="Every option, earliest delivery first")
