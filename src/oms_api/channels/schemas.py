"""HTTP contract of sales channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from oms_api.channels.domain import ChannelType
from oms_api.kit.schemas import Code, CurrencyCode, Name, OutModel, Page, StrictModel, check_currency


def _single_line(value: str) -> str:
    """No control characters (PostgreSQL cannot even store NUL: it would be a 500)."""
    if any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        raise ValueError("control characters (tabs, line breaks, NUL…) are not allowed here")
    return value


ChannelName = Annotated[Name, AfterValidator(_single_line)]
Currency = Annotated[CurrencyCode, AfterValidator(check_currency)]
ChannelTypeField = Annotated[ChannelType, Field(description="What kind of point of sale this is")]


class ChannelCreate(StrictModel):
    code: Code
    name: ChannelName
    type: ChannelTypeField
    default_currency: Annotated[Currency, Field(description="Currency of the channel's orders unless they say")]
    active: bool = True


class ChannelUpdate(StrictModel):
    """Fields to change; absent fields stay as they are. The code is immutable (other systems key on it)."""

    name: ChannelName | None = None
    type: ChannelTypeField | None = None
    default_currency: Currency | None = None
    active: bool | None = None

    @field_validator("name", "type", "default_currency", "active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only runs for fields the client sent: an explicit null would blank a required column.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class Channel(OutModel):
    id: uuid.UUID
    code: str
    name: str
    type: str
    default_currency: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ChannelList(Page[Channel]):
    pass
