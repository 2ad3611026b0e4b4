"""HTTP contract of sales channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from oms_api.allocation.domain import Strategy
from oms_api.carriers.domain import ShippingChoice
from oms_api.channels.domain import ChannelType
from oms_api.kit.schemas import SINGLE_LINE, Code, CurrencyCode, Name, OutModel, Page, StrictModel, check_currency


def _single_line(value: str) -> str:
    """No control characters (PostgreSQL cannot even store NUL: it would be a 500)."""
    if any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        raise ValueError("control characters (tabs, line breaks, NUL…) are not allowed here")
    return value


ChannelName = Annotated[Name, AfterValidator(_single_line)]
Currency = Annotated[CurrencyCode, AfterValidator(check_currency)]
ChannelTypeField = Annotated[ChannelType, Field(description="What kind of point of sale this is")]
WebhookSecret = Annotated[
    str,
    StringConstraints(min_length=8, max_length=200, pattern=SINGLE_LINE),
    Field(
        description="The secret the storefront signs its webhooks with (write-only: never returned)",
        json_schema_extra={"writeOnly": True},
    ),
]


class IntegrationSecret(StrictModel):
    webhook_secret: WebhookSecret


class ChannelIntegrations(StrictModel):
    """Storefront integrations of the channel. On update, a named integration is replaced; null removes it."""

    shopify: IntegrationSecret | None = None
    woocommerce: IntegrationSecret | None = None


class SourcingPolicy(StrictModel):
    """How the channel's orders are sourced. On update, the fields sent replace the current ones; null resets one."""

    strategy: Strategy | None = Field(
        None,
        description="nearest (default: fewest shipments, then distance, then priority), priority (fewest "
        "shipments, then priority, then distance) or nearest_per_line (each line from its nearest warehouse)",
    )
    allowed_warehouses: Annotated[list[Code], Field(max_length=100)] | None = Field(
        None, description="Codes of the warehouses that may ship this channel's orders; empty: any"
    )
    max_splits: Annotated[int, Field(ge=0, le=20)] | None = Field(
        None,
        description="Most times an order may be split: it ships from at most max_splits + 1 warehouses "
        "(0: never split); null: the service default (OMS_MAX_SPLIT_WAREHOUSES warehouses)",
    )
    allow_partial_shipment: bool | None = Field(
        None, description="false: every order ships whole from one warehouse (as max_splits 0)"
    )


class ChannelSourcing(OutModel):
    strategy: str
    allowed_warehouses: list[str]
    max_splits: int | None
    allow_partial_shipment: bool


ShippingChoiceField = Annotated[
    ShippingChoice,
    Field(
        description="How shipments choose their carrier service: cheapest, fastest, or cheapest_on_time (the "
        "cheapest that arrives by the promised date, else the fastest)"
    ),
]
CartTtl = Annotated[
    int, Field(ge=1, le=10_080, description="Minutes a cart of this channel holds its stock (at most a week)")
]


class ChannelCreate(StrictModel):
    code: Code
    name: ChannelName
    type: ChannelTypeField
    default_currency: Annotated[Currency, Field(description="Currency of the channel's orders unless they say")]
    active: bool = True
    cart_ttl_minutes: CartTtl = 30
    integrations: ChannelIntegrations | None = None
    sourcing: SourcingPolicy | None = None
    shipping_choice: ShippingChoiceField = ShippingChoice.CHEAPEST


class ChannelUpdate(StrictModel):
    """Fields to change; absent fields stay as they are. The code is immutable (other systems key on it)."""

    name: ChannelName | None = None
    type: ChannelTypeField | None = None
    default_currency: Currency | None = None
    active: bool | None = None
    cart_ttl_minutes: CartTtl | None = None
    integrations: ChannelIntegrations | None = None
    sourcing: SourcingPolicy | None = None
    shipping_choice: ShippingChoiceField | None = None

    @field_validator(
        "name", "type", "default_currency", "active", "cart_ttl_minutes", "integrations", "sourcing", "shipping_choice"
    )
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
    cart_ttl_minutes: int
    configured_integrations: list[str] = Field(
        description="Storefront integrations with a webhook secret set (the secrets themselves are never returned)"
    )
    sourcing: ChannelSourcing
    shipping_choice: str = Field(description="How a shipment's carrier service is chosen by default")
    version: int
    created_at: datetime
    updated_at: datetime


class ChannelList(Page[Channel]):
    pass
