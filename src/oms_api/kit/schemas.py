"""Shapes shared by every context's HTTP contract: strict input, money, addresses, pages."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Generic, TypeVar

from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from oms_api.kit import money


class StrictModel(BaseModel):
    """Request bodies: unknown fields are refused, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


class OutModel(BaseModel):
    """Response bodies, built from service results (never ORM classes leaking out)."""

    model_config = ConfigDict(from_attributes=True)


Code = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"),
    Field(description="Unique human-friendly code (letters, digits, . _ / -)"),
]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
CurrencyCode = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code", examples=["EUR"])
]
SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"  # no control characters (PostgreSQL refuses NUL in text)
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # tabs and line breaks allowed


Line20 = Annotated[str, StringConstraints(max_length=20, pattern=SINGLE_LINE)]
Line40 = Annotated[str, StringConstraints(max_length=40, pattern=SINGLE_LINE)]
Line100 = Annotated[str, StringConstraints(max_length=100, pattern=SINGLE_LINE)]
Line200 = Annotated[str, StringConstraints(max_length=200, pattern=SINGLE_LINE)]
RequiredLine100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SINGLE_LINE)]
RequiredLine200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=SINGLE_LINE)]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SINGLE_LINE)]
Text = Annotated[str, StringConstraints(max_length=2000, pattern=MULTI_LINE)]


def check_currency(code: str) -> str:
    if not money.is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


class Money(BaseModel):
    """An amount of money: a decimal string with no more decimals than the currency allows."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": "12.50", "currency": "EUR"}]})

    amount: Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$")] = Field(
        description='Decimal string, e.g. "12.50" (JPY has no decimals, KWD three)'
    )
    currency: CurrencyCode

    @model_validator(mode="after")
    def _check(self) -> Money:
        check_currency(self.currency)
        try:
            money.check_amount(Decimal(self.amount), self.currency)
        except money.CurrencyError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def to_money(self) -> money.Money:
        return money.Money.of(self.amount, self.currency)

    @classmethod
    def of(cls, value: money.Money) -> Money:
        """Wire form of a domain amount, with exactly the currency's decimals."""
        return cls.model_construct(
            amount=str(value.amount.quantize(money.quantum(value.currency))), currency=value.currency
        )


_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes: CLDR's two-letter territories less its groupings and pseudo-regions."""
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha()) - _NOT_COUNTRIES


def check_country(code: str) -> str:
    if code not in _countries():
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


class Address(StrictModel):
    """A postal address; coordinates are optional and used for distance-based sourcing."""

    name: Line200 | None = None
    company: Line200 | None = None
    line1: RequiredLine200
    line2: Line200 | None = None
    city: RequiredLine100
    region: Line100 | None = None
    postal_code: Line20 | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2", examples=["DE"]
    )
    phone: Line40 | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return check_country(value)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next page."""

    data: list[T]
    has_more: bool
    next_cursor: str | None = None


TaxRate = Annotated[
    Decimal,
    Field(ge=0, le=1, max_digits=7, decimal_places=6, description="Tax as a fraction of the discounted line value"),
]
