"""Shapes shared by every context's HTTP contract: strict input, money, addresses, pages."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from babel import Locale
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ModelWrapValidatorHandler,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from oms_api.kit import money, text

SINGLE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"  # no control characters (kit.text's rule, shown in the spec)
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
"""The pattern of free text (notes, descriptions): tabs and line breaks allowed. A string with this pattern is the
only kind that may hold them; every other string is one line, whatever its pattern (``StrictModel``)."""


def _control_character_check(*, free_text: bool, strips: bool) -> Callable[[Any], Any]:
    """The check a string runs before its own constraints, so that a refusal has one ``code`` whatever pattern the
    field has. A field that strips white space is judged stripped (an edge line break is trimmed, not refused)."""
    search = (text.FREE_TEXT_FORBIDDEN if free_text else text.SINGLE_LINE_FORBIDDEN).search

    def check(value: Any) -> Any:
        if value.__class__ is str and search(value) is not None:  # one regex scan on the usual path
            detail = text.refusal(value.strip(text.WHITE_SPACE) if strips else value, free_text=free_text)
            if detail is not None:
                raise PydanticCustomError(text.CODE, detail)
        return value

    return check


_CHECK_NAME = _control_character_check.__qualname__ + ".<locals>.check"


_STRICT_TYPES = frozenset({"int", "float", "bool"})


def _hardened(schema: Any) -> Any:
    """``schema`` with every string checked for control characters and every number and boolean strict.

    Walks the core schema pydantic built, so a field cannot forget it, whatever its annotation (``list[str]``,
    ``dict[str, str]``, ``int | None``…). Nested models are hardened by their own class (``StrictModel``).
    """
    if isinstance(schema, list | tuple):
        return type(schema)(_hardened(item) for item in schema)
    if not isinstance(schema, dict) or not isinstance(schema.get("type"), str):
        return schema
    kind = schema["type"]
    if kind in _STRICT_TYPES:
        return {**schema, "strict": True}
    if kind == "str":
        check = _control_character_check(
            free_text=schema.get("pattern") == MULTI_LINE, strips=bool(schema.get("strip_whitespace"))
        )
        return core_schema.no_info_before_validator_function(check, schema)
    function = schema.get("function", {}).get("function") if kind == "function-before" else None
    if getattr(function, "__qualname__", None) == _CHECK_NAME:
        return schema  # hardened already (a model's schema reused inside another's)
    return {key: _walk_child(key, value) for key, value in schema.items()}


_NOT_SCHEMAS = frozenset({"metadata", "serialization", "ref", "function", "default", "expected", "config"})


def _walk_child(key: str, value: Any) -> Any:
    if key in _NOT_SCHEMAS:
        return value
    if key in {"fields", "choices"} and isinstance(value, dict):  # fields by name, a tagged union's choices by tag
        return {name: _hardened(item) for name, item in value.items()}
    return _hardened(value)


class StrictModel(BaseModel):
    """Request bodies: unknown fields are refused, so typos never pass silently; numbers and booleans are strict
    (``"2"`` and ``true`` are not a quantity); no string holds a control character (``kit.text``)."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema: CoreSchema = _hardened(handler(source))
        return schema


class OutModel(BaseModel):
    """Response bodies, built from service results (never ORM classes leaking out)."""

    model_config = ConfigDict(from_attributes=True)


Code = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"),
    Field(description="Unique human-friendly code (letters, digits, . _ / -)"),
]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def check_currency(code: str) -> str:
    """``code`` if it is an ISO 4217 code of money: unknown codes and the non-currencies (``XXX``, ``XAU``…) are
    refused (``kit.money.NON_CURRENCIES``)."""
    if code in money.NON_CURRENCIES:
        raise PydanticCustomError("invalid_currency", "{code} is an ISO 4217 code of no currency", {"code": code})
    if not money.is_currency(code):
        raise PydanticCustomError("invalid_currency", "{code} is not an ISO 4217 currency code", {"code": code})
    return code


CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(check_currency),
    Field(description="ISO 4217 code of a currency (not XXX, XTS, XAU or another non-currency)", examples=["EUR"]),
]


Line20 = Annotated[str, StringConstraints(max_length=20, pattern=SINGLE_LINE)]
Line40 = Annotated[str, StringConstraints(max_length=40, pattern=SINGLE_LINE)]
Line100 = Annotated[str, StringConstraints(max_length=100, pattern=SINGLE_LINE)]
Line200 = Annotated[str, StringConstraints(max_length=200, pattern=SINGLE_LINE)]
RequiredLine100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SINGLE_LINE)]
RequiredLine200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=SINGLE_LINE)]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SINGLE_LINE)]
Text = Annotated[str, StringConstraints(max_length=2000, pattern=MULTI_LINE)]


class Money(StrictModel):
    """An amount of money: a decimal string with no more decimals than the currency allows."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": "12.50", "currency": "EUR"}]})

    amount: Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]{0,18})(\.[0-9]{1,6})?$")] = Field(
        description=(
            'Decimal string, e.g. "12.50" (JPY has no decimals, KWD three). A request gives at most 99999999999 '
            "minor units (999999999.99 EUR, 99999999999 JPY), so that every total fits; totals may be larger."
        )
    )
    currency: CurrencyCode

    @model_validator(mode="after")
    def _check(self) -> Money:
        try:
            money.check_amount(Decimal(self.amount), self.currency)
        except money.CurrencyError as exc:
            raise ValueError(str(exc)) from exc
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _bounded(cls, data: Any, handler: ModelWrapValidatorHandler[Money]) -> Money:
        """An amount given in a request is at most ``kit.money.MAX_AMOUNT_MINOR`` minor units. A ``Money`` the
        service built (a total, in a response) may be larger: it is passed as an instance, and not refused."""
        value = handler(data)
        if not isinstance(data, Money):
            try:
                money.check_bounded(Decimal(value.amount), value.currency)
            except money.CurrencyError as exc:
                raise PydanticCustomError("amount_too_large", str(exc)) from exc
        return value

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
