"""HTTP contract of sales channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from oms_api.allocation.domain import Strategy
from oms_api.carriers.domain import ShippingChoice
from oms_api.channels.domain import (
    ChannelType,
    InvoicePolicy,
    PaymentGateway,
    PaymentPolicy,
    PriceBasis,
    ShippingChargeMode,
)
from oms_api.kit.schemas import (
    SINGLE_LINE,
    Code,
    CurrencyCode,
    Money,
    Name,
    OutModel,
    Page,
    StrictModel,
    check_currency,
)


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
PriceBasisField = Annotated[
    PriceBasis,
    Field(
        description="tax_exclusive: the tax of each line is added to its price (US, B2B); tax_inclusive: prices "
        "include it and the tax is the part of the price it makes up (EU retail)"
    ),
]
PaymentPolicyField = Annotated[
    PaymentPolicy,
    Field(
        description="external: the storefront takes the money (storefront orders arrive captured); "
        "authorize_at_placement: authorised when placed, each shipment captures its share as it ships and "
        "cancelling voids the rest; capture_at_placement: captured whole when placed; on_terms: invoiced later"
    ),
]
PaymentGatewayField = Annotated[PaymentGateway, Field(description="The gateway of the channel's payments")]
InvoicePolicyField = Annotated[
    InvoicePolicy,
    Field(
        description="per_shipment: an invoice is issued for each shipment as it ships; per_order: one invoice when "
        "the whole order has shipped; manual: only POST /v1/orders/{id}/invoices issues one"
    ),
]
LegalEntityField = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Code of the legal entity that invoices this channel's orders (absent: the default entity)",
    ),
]


class ShippingCharge(StrictModel):
    """How the channel's orders are charged for shipping. An order that gives its own ``shipping_price`` (a
    storefront's order, sold with its shipping) always keeps it."""

    mode: ShippingChargeMode = Field(
        description="as_given: the order's shipping_price, else nothing; flat: ``amount`` per order, nothing "
        "from ``free_over`` (the lines' value, after discounts); selected_rate: the carrier rate the order's "
        "first shipment selects"
    )
    amount: Money | None = Field(None, description="flat: the charge, in the channel's default currency")
    free_over: Money | None = Field(None, description="flat: orders worth at least this ship free")

    @model_validator(mode="after")
    def _flat_has_amount(self) -> ShippingCharge:
        if self.mode == "flat" and self.amount is None:
            raise ValueError("a flat shipping charge needs its amount")
        if self.mode != "flat" and (self.amount is not None or self.free_over is not None):
            raise ValueError("amount and free_over belong to the flat mode only")
        if self.amount and self.free_over and self.amount.currency != self.free_over.currency:
            raise ValueError("amount and free_over must be in one currency")
        return self


class ShippingChargeOut(OutModel):
    mode: str
    amount: Money | None = None
    free_over: Money | None = None


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
    price_basis: PriceBasisField = "tax_exclusive"
    payment_policy: PaymentPolicyField = "external"
    payment_gateway: PaymentGatewayField = "test"
    shipping_charge: ShippingCharge | None = None
    invoice_policy: InvoicePolicyField = "manual"
    legal_entity: LegalEntityField | None = None


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
    price_basis: PriceBasisField | None = None
    payment_policy: PaymentPolicyField | None = None
    payment_gateway: PaymentGatewayField | None = None
    shipping_charge: ShippingCharge | None = None
    invoice_policy: InvoicePolicyField | None = None
    legal_entity: LegalEntityField | None = Field(
        default=None, description="Code of the legal entity that invoices (null: back to the default entity)"
    )

    @field_validator(
        "name",
        "type",
        "default_currency",
        "active",
        "cart_ttl_minutes",
        "integrations",
        "sourcing",
        "shipping_choice",
        "price_basis",
        "payment_policy",
        "payment_gateway",
        "shipping_charge",
        "invoice_policy",
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
    price_basis: str
    payment_policy: str
    payment_gateway: str
    shipping_charge: ShippingChargeOut
    invoice_policy: str
    legal_entity: str | None = Field(description="The legal entity that invoices (null: the default one)")
    version: int

    @field_validator("shipping_charge", mode="before")
    @classmethod
    def _as_given_when_unset(cls, value: Any) -> Any:
        return {"mode": "as_given"} if value is None else value

    created_at: datetime
    updated_at: datetime


class ChannelList(Page[Channel]):
    pass
