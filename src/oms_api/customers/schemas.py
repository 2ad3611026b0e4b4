"""HTTP contract of customers."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from oms_api.customers.domain import (
    EXTERNAL_ID_MAX_LENGTH,
    EXTERNAL_SOURCE_PATTERN,
    PaymentTerms,
    TermsKind,
    has_identity,
    normalise_email,
)
from oms_api.kit.money import Money as Amount
from oms_api.kit.schemas import MULTI_LINE, Address, Money, OutModel, Page, StrictModel, Tag
from oms_api.kit.vat import normalise_vat_id
from oms_api.settings import get_settings

MAX_ADDRESSES = 20
MAX_TAGS = 20
MAX_EXTERNAL_REFS = 20
TAG_COLUMN_LENGTH = 400  # kit.db_types.TagSet stores ",a,b," in a String(400)


def _blank_to_none(value: object) -> object:
    """Storefronts send ``""`` for "not given": treat it as absent (on PATCH: as clearing the field)."""
    return None if isinstance(value, str) and not value.strip() else value


def _single_line(value: str) -> str:
    """Names and phones hold no control characters (PostgreSQL cannot even store NUL: it would be a 500)."""
    if any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        raise ValueError("control characters (tabs, line breaks, NUL…) are not allowed here")
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("the NUL character is not allowed")
    return value


def _canonical_tags(tags: list[str]) -> list[str]:
    """Tags are a set: sorted and deduplicated here, so the response shows what is stored."""
    canonical = sorted(set(tags))
    if len("," + ",".join(canonical) + ",") > TAG_COLUMN_LENGTH:
        raise ValueError(f"the tags together may have at most {TAG_COLUMN_LENGTH - 2} characters")
    return canonical


BlankIsNone = BeforeValidator(_blank_to_none)
Email = Annotated[
    Annotated[str, StringConstraints(max_length=320), AfterValidator(normalise_email)] | None,
    BlankIsNone,
    Field(description="Stored lower-cased; unique among customers", examples=["ada@example.com"]),
]
PersonName = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(_single_line)] | None,
    BlankIsNone,
]
Company = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_single_line)] | None,
    BlankIsNone,
]
Phone = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_single_line)] | None,
    BlankIsNone,
]
Notes = Annotated[
    Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=MULTI_LINE), AfterValidator(_no_nul)
    ]
    | None,
    BlankIsNone,
]
Addresses = Annotated[list[Address], Field(max_length=MAX_ADDRESSES)]
Tags = Annotated[
    list[Tag],
    Field(max_length=MAX_TAGS, description="Slug tags such as vip or wholesale", examples=[["vip"]]),
    AfterValidator(_canonical_tags),
]
VatId = Annotated[
    Annotated[str, StringConstraints(max_length=40), AfterValidator(_single_line), AfterValidator(normalise_vat_id)]
    | None,
    BlankIsNone,
    Field(
        description="EU or UK VAT id with its country prefix, checked and stored compact (DE 136 695 976 -> "
        "DE136695976)",
        examples=["DE136695976"],
    ),
]
MAX_TERMS_DAYS = 365


class PaymentTermsIn(StrictModel):
    """When the customer's invoices are due, with an optional early-payment discount. A customer with terms is
    invoiced for orders that name no payment method (no card is authorised)."""

    kind: Literal["due_on_receipt", "net", "end_of_month_plus"] = Field(
        description="due_on_receipt; net: days after the invoice date; end_of_month_plus: days after its month ends"
    )
    days: int | None = Field(None, ge=0, le=MAX_TERMS_DAYS, description="Required for net and end_of_month_plus")
    discount_percent: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,2}(\.[0-9]{1,2})?$")] | None = Field(
        None, description="Early-payment discount, 0 < percent < 100 (decimal string)", examples=["2"]
    )
    discount_days: int | None = Field(
        None, ge=0, le=MAX_TERMS_DAYS, description="The discount applies when paid within this many days"
    )

    @model_validator(mode="after")
    def _consistent(self) -> PaymentTermsIn:
        if self.kind != "due_on_receipt" and self.days is None:
            raise PydanticCustomError("terms_days_required", "net and end_of_month_plus terms need days (0 to 365)")
        if self.kind == "due_on_receipt" and self.days:
            raise PydanticCustomError("terms_days_not_allowed", "due_on_receipt terms take no days")
        if (self.discount_percent is None) != (self.discount_days is None):
            raise PydanticCustomError(
                "terms_discount_incomplete", "an early-payment discount needs both discount_percent and discount_days"
            )
        if self.discount_percent is not None and not 0 < Decimal(self.discount_percent) < 100:
            raise PydanticCustomError("terms_discount_percent", "discount_percent must be above 0 and below 100")
        return self

    def to_domain(self) -> PaymentTerms:
        percent = None if self.discount_percent is None else Decimal(self.discount_percent)
        return PaymentTerms(TermsKind(self.kind), self.days or 0, percent, self.discount_days)


class PaymentTermsOut(OutModel):
    kind: Literal["due_on_receipt", "net", "end_of_month_plus"]
    days: int
    discount_percent: str | None
    discount_days: int | None
    description: str = Field(description="As printed on invoices, e.g. Net 30")


def terms_out(stored: dict[str, Any] | None) -> PaymentTermsOut | None:
    if stored is None:
        return None
    terms = PaymentTerms.from_json(stored)
    return PaymentTermsOut(
        kind=terms.kind.value,
        days=terms.days,
        discount_percent=None if terms.discount_percent is None else f"{terms.discount_percent.normalize():f}",
        discount_days=terms.discount_days,
        description=terms.describe(),
    )


def credit_limit_out(minor: int | None) -> Money | None:
    return None if minor is None else Money.of(Amount.from_minor(minor, get_settings().base_currency))


CreditLimit = Annotated[
    Money | None,
    Field(description="The most a business customer may owe (open invoices and open orders), in the base currency"),
]
ExternalRefs = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=EXTERNAL_SOURCE_PATTERN)],
        Annotated[
            str, StringConstraints(min_length=1, max_length=EXTERNAL_ID_MAX_LENGTH), AfterValidator(_single_line)
        ],
    ],
    Field(
        max_length=MAX_EXTERNAL_REFS,
        description="The customer's id in other systems, by source",
        examples=[{"shopify": "7365432"}],
    ),
]


class CustomerCreate(StrictModel):
    """A new customer: at least one of email, first_name, last_name, company or phone."""

    email: Email = None
    first_name: PersonName = None
    last_name: PersonName = None
    company: Company = None
    phone: Phone = None
    addresses: Addresses = []
    tags: Tags = []
    external_refs: ExternalRefs = {}
    notes: Notes = None
    vat_id: VatId = None
    payment_terms: PaymentTermsIn | None = None
    credit_limit: CreditLimit = None

    @model_validator(mode="after")
    def _identified(self) -> CustomerCreate:
        if not has_identity(self.email, self.first_name, self.last_name, self.company, self.phone):
            raise PydanticCustomError(
                "missing_identity", "give at least one of email, first_name, last_name, company or phone"
            )
        return self


class CustomerUpdate(StrictModel):
    """Fields to change; absent fields stay as they are, null (or "") clears an optional text field.

    Lists and ``external_refs`` are replaced as a whole."""

    email: Email = None
    first_name: PersonName = None
    last_name: PersonName = None
    company: Company = None
    phone: Phone = None
    addresses: Addresses | None = None
    tags: Tags | None = None
    external_refs: ExternalRefs | None = None
    notes: Notes = None
    vat_id: VatId = None
    payment_terms: PaymentTermsIn | None = Field(None, description="null: no terms (pays at checkout)")
    credit_limit: CreditLimit = None

    @field_validator("addresses", "tags", "external_refs")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only runs for fields the client sent: send [] or {} to empty a collection.
        if value is None:
            raise ValueError("may be omitted but not null (send an empty list or object to clear it)")
        return value


class Customer(OutModel):
    id: uuid.UUID
    email: str | None
    first_name: str | None
    last_name: str | None
    company: str | None
    phone: str | None
    addresses: list[Address]
    tags: list[str]
    external_refs: dict[str, str]
    notes: str | None
    vat_id: str | None
    payment_terms: PaymentTermsOut | None
    credit_limit: Money | None
    version: int
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        """A stored customer: terms described, the credit limit in the base currency."""
        if isinstance(data, dict):
            return data
        values = {name: getattr(data, name) for name in cls.model_fields if hasattr(data, name)}
        values["payment_terms"] = terms_out(data.payment_terms)
        values["credit_limit"] = credit_limit_out(data.credit_limit_minor)
        return values


class CustomerList(Page[Customer]):
    pass


class CustomerRef(StrictModel):
    """An existing customer, by id."""

    id: uuid.UUID
