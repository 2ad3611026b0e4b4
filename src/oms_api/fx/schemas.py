"""HTTP contract of exchange rates: rates as published, lookups and conversions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    RootModel,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

from oms_api.fx.domain import MAX_RATE_DECIMALS, MAX_RATE_INTEGER_DIGITS, rate_text
from oms_api.kit.schemas import CurrencyCode, Money, OutModel, Page, StrictModel

MAX_RATES_PER_REQUEST = 1000


def _positive(value: str) -> str:
    if Decimal(value) <= 0:
        raise ValueError("a rate must be more than 0")
    return value


RateText = Annotated[
    str,
    StringConstraints(
        pattern=rf"^(0|[1-9][0-9]{{0,{MAX_RATE_INTEGER_DIGITS - 1}}})(\.[0-9]{{1,{MAX_RATE_DECIMALS}}})?$"
    ),
    AfterValidator(_positive),
    Field(
        description="Units of the quote currency one unit of the base buys, as a decimal string "
        f"(at most {MAX_RATE_INTEGER_DIGITS} integer digits and {MAX_RATE_DECIMALS} decimals)",
        examples=["1.0865"],
    ),
]
Source = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$"),
    Field(description="Who published the rate, e.g. ecb or api", examples=["ecb"]),
]


class FxRateCreate(StrictModel):
    """A published rate: 1 ``base`` = ``rate`` ``quote`` on ``rate_date``."""

    base: CurrencyCode
    quote: CurrencyCode
    rate: RateText
    rate_date: date = Field(description="The date the rate was published for")
    source: Source = "api"

    @model_validator(mode="after")
    def _two_currencies(self) -> FxRateCreate:
        if self.base == self.quote:
            raise ValueError("base and quote must be two currencies")
        return self


class FxRatesIn(RootModel[Annotated[list[FxRateCreate], Field(min_length=1, max_length=MAX_RATES_PER_REQUEST)]]):
    """The body of ``POST /v1/fx-rates``: one rate, or a list of up to 1000 added together.

    One rate is read as a list of one; its validation errors point into it as given (``/body/quote``, not
    ``/body/0/quote``)."""

    @model_validator(mode="wrap")
    @classmethod
    def _one_or_many(cls, data: Any, handler: ModelWrapValidatorHandler[FxRatesIn]) -> FxRatesIn:
        if not isinstance(data, dict):
            return handler(data)
        try:
            return handler([data])
        except ValidationError as exc:
            errors: list[InitErrorDetails] = [
                {
                    "type": PydanticCustomError(error["type"], error["msg"]),
                    "loc": error["loc"][1:],
                    "input": error["input"],
                }
                for error in exc.errors()
            ]
            raise ValidationError.from_exception_data(exc.title, errors) from None

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        many = handler(schema)
        many = handler.resolve_ref_schema(many)
        return {
            "oneOf": [
                many["items"],
                {key: value for key, value in many.items() if key not in ("title", "description")},
            ],
            "title": "FxRatesIn",
            "description": "One rate, or a list of up to 1000 added together (all or none)",
        }


class FxRate(OutModel):
    """A stored rate."""

    id: uuid.UUID
    base: str
    quote: str
    rate: str = Field(description="Decimal string, exactly as published", examples=["1.0865"])
    rate_date: date
    source: str
    created_at: datetime

    @field_validator("rate", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return rate_text(value) if isinstance(value, Decimal) else value


class FxRateList(Page[FxRate]):
    pass


class FxRatesAdded(OutModel):
    """What a request added: the new rates, and those already stored with the same value (left as they were)."""

    created: list[FxRate]
    skipped: list[FxRate] = Field(description="Rates already stored for their pair and date, with the same value")


class FxRatesPublished(OutModel):
    """``fx_rate.created``: the rates added for one base currency and date (one event per published day)."""

    base: str
    rate_date: date
    rates: list[FxRate]


class FxConversion(OutModel):
    """An amount converted at the rate in force on a date."""

    amount: Money
    result: Money = Field(description="The amount times the rate, rounded half up to the target currency's unit")
    rate: str = Field(description="The rate used: units of the target currency per unit of the amount's")
    rate_date: date = Field(description="The date the rate was published for (latest on or before the date asked)")
    source: str = Field(description="Who published it (a cross rate: its legs' sources joined by +)")
    via: str | None = Field(None, description="The common base of a cross rate (e.g. EUR); null for a direct rate")
    inverted: bool = Field(False, description="The rate is the inverse of the stored reverse rate")
