"""HTTP contract of customers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from oms_api.customers.domain import (
    EXTERNAL_ID_MAX_LENGTH,
    EXTERNAL_SOURCE_PATTERN,
    has_identity,
    normalise_email,
)
from oms_api.kit.schemas import MULTI_LINE, Address, OutModel, Page, StrictModel, Tag

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
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerList(Page[Customer]):
    pass


class CustomerRef(StrictModel):
    """An existing customer, by id."""

    id: uuid.UUID
