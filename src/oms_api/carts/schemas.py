"""HTTP contract of carts (and of checkout, which turns a cart into an order)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from oms_api.carts.domain import MAX_LINES, MAX_QUANTITY, MAX_TTL_MINUTES
from oms_api.customers.schemas import CustomerCreate, CustomerRef
from oms_api.kit.schemas import (
    Address,
    Code,
    CurrencyCode,
    Money,
    OutModel,
    Page,
    StrictModel,
    Tag,
    TaxRate,
    Text,
    check_currency,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Currency = Annotated[CurrencyCode, AfterValidator(check_currency)]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class CartLineIn(StrictModel):
    sku: Code
    quantity: Quantity
    unit_price: Money | None = Field(None, description="The price the shopper sees (used at checkout unless given)")


class CartLineSet(StrictModel):
    sku: Code
    quantity: Annotated[int, Field(ge=0, le=MAX_QUANTITY, description="The line's new quantity; 0 removes it")]
    unit_price: Money | None = Field(None, description="Sent: replaces the line's price (null clears it)")


class CartCreate(StrictModel):
    channel: Code = Field(description="The channel's code (or id)")
    currency: Currency | None = Field(None, description="Defaults to the channel's currency")
    customer: CustomerRef | CustomerCreate | None = Field(
        None, description="An existing customer ({id}) or inline details (matched by email, else created)"
    )
    lines: Annotated[list[CartLineIn], Field(max_length=MAX_LINES)] = Field(
        default_factory=list, description="One line per SKU; every unit is held at once"
    )


class CartLinesReplace(StrictModel):
    """The cart's complete new set of lines, prices included: SKUs left out are removed."""

    lines: Annotated[list[CartLineIn], Field(max_length=MAX_LINES)]


class CartLinesUpdate(StrictModel):
    """Lines to set: a SKU not in the cart is added, quantity 0 removes a line, other lines stay."""

    lines: Annotated[list[CartLineSet], Field(min_length=1, max_length=MAX_LINES)]


class CartExtend(StrictModel):
    minutes: Annotated[int, Field(ge=1, le=MAX_TTL_MINUTES)] | None = Field(
        None, description="Hold for this long from now (default: the channel's cart_ttl_minutes); never shortens"
    )


class CartAbandon(StrictModel):
    reason: Reason | None = None


class CheckoutLine(StrictModel):
    """Prices of one cart line for the order (a cart line's own unit_price is used when none is given)."""

    sku: Code
    unit_price: Money | None = None
    discount: Money | None = Field(None, description="Discount on the whole line (not per unit)")
    tax_rate: TaxRate | None = Field(None, examples=["0.19"])
    tax: Money | None = Field(None, description="Tax already computed by the channel (instead of tax_rate)")

    @model_validator(mode="after")
    def _one_tax(self) -> CheckoutLine:
        if self.tax_rate is not None and self.tax is not None:
            raise ValueError("give tax_rate or tax, not both")
        return self


class CartCheckout(StrictModel):
    external_ref: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="The order's id in the channel; unique per channel"
    )
    customer: CustomerRef | CustomerCreate | None = Field(
        None, description="The order's customer; default: the cart's (if any)"
    )
    shipping_address: Address
    billing_address: Address | None = None
    lines: Annotated[list[CheckoutLine], Field(max_length=MAX_LINES)] = Field(
        default_factory=list, description="Prices, discounts and taxes per cart line, by SKU"
    )
    shipping_price: Money | None = None
    shipping_tax: Money | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    notes: Text | None = None


class CartHold(OutModel):
    warehouse: str
    warehouse_id: uuid.UUID
    quantity: int


class CartLine(OutModel):
    id: uuid.UUID
    line_no: int
    sku: str
    sku_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Money | None
    holds: list[CartHold] = Field(description="Where the line's units are held (empty once the cart is closed)")


class Cart(OutModel):
    id: uuid.UUID
    channel: str
    channel_id: uuid.UUID
    customer_id: uuid.UUID | None
    currency: str
    status: str = Field(description="active, converted (see order_id), expired or abandoned")
    status_reason: str | None
    expires_at: datetime = Field(description="When the holds lapse unless extended or checked out")
    order_id: uuid.UUID | None
    lines: list[CartLine]
    subtotal: Money | None = Field(description="Sum of the lines' prices, when every line has one")
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int


class CartSummary(OutModel):
    """A cart in lists (no lines)."""

    id: uuid.UUID
    channel_id: uuid.UUID
    customer_id: uuid.UUID | None
    currency: str
    status: str
    expires_at: datetime
    order_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class CartList(Page[CartSummary]):
    pass
