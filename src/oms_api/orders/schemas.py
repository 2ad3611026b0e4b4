"""HTTP contract of orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from oms_api.customers.schemas import CustomerCreate, CustomerRef
from oms_api.kit.money import MAX_LINE_QUANTITY, MAX_ORDER_LINES
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
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class OrderLineCreate(StrictModel):
    sku: Code
    quantity: Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]
    unit_price: Money
    discount: Money | None = Field(None, description="Discount on the whole line (not per unit)")
    tax_rate: TaxRate | None = Field(None, examples=["0.19"])
    tax: Money | None = Field(None, description="Tax already computed by the channel (instead of tax_rate)")

    @model_validator(mode="after")
    def _one_tax(self) -> OrderLineCreate:
        if self.tax_rate is not None and self.tax is not None:
            raise ValueError("give tax_rate or tax, not both")
        return self


class OrderCreate(StrictModel):
    channel: Code = Field(description="The channel's code (or id)")
    external_ref: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="The order's id in the channel; unique per channel"
    )
    currency: CurrencyCode
    customer: CustomerRef | CustomerCreate | None = Field(
        None, description="An existing customer ({id}) or inline details (matched by email, else created)"
    )
    shipping_address: Address
    billing_address: Address | None = None
    lines: Annotated[list[OrderLineCreate], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    shipping_price: Money | None = None
    shipping_tax: Money | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list, examples=[["vip", "gift"]])
    notes: Text | None = None
    pickup_warehouse: Code | None = Field(
        None, description="Click-and-collect: the warehouse (code or id) where the customer collects the order"
    )


class OrderUpdate(StrictModel):
    shipping_address: Address | None = None
    billing_address: Address | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    notes: Text | None = None


class ReasonBody(StrictModel):
    reason: Reason


class OptionalReasonBody(StrictModel):
    reason: Reason | None = None


class LineAllocation(OutModel):
    warehouse: str
    warehouse_id: uuid.UUID
    quantity: int
    status: str = Field(description="active (stock reserved), released or fulfilled")


class OrderLine(OutModel):
    id: uuid.UUID
    line_no: int
    sku: str
    sku_id: uuid.UUID | None = Field(description="Null when the channel sent a SKU the catalogue lacks (order on hold)")
    name: str
    quantity: int
    unit_price: Money
    discount: Money
    tax_rate: str | None
    tax: Money
    total: Money
    allocations: list[LineAllocation]


class OrderTotals(OutModel):
    subtotal: Money
    discount_total: Money
    shipping_total: Money
    tax_total: Money
    grand_total: Money


class Order(OutModel):
    id: uuid.UUID
    channel: str
    channel_id: uuid.UUID
    external_ref: str
    status: str
    status_reason: str | None
    allowed_transitions: list[str] = Field(description="Statuses this order may move to next")
    currency: str
    customer_id: uuid.UUID | None
    shipping_address: Address | None
    billing_address: Address | None
    tags: list[str]
    notes: str | None
    lines: list[OrderLine]
    totals: OrderTotals
    placed_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int
    pickup_warehouse_id: uuid.UUID | None = Field(
        None, description="Click-and-collect: the warehouse where the customer collects the order"
    )


class OrderSummary(OutModel):
    """An order in lists (no lines)."""

    id: uuid.UUID
    channel_id: uuid.UUID
    external_ref: str
    status: str
    currency: str
    customer_id: uuid.UUID | None
    tags: list[str]
    grand_total: Money
    placed_at: datetime
    version: int


class OrderList(Page[OrderSummary]):
    pass


class OrderEvent(OutModel):
    id: uuid.UUID
    type: str
    occurred_at: datetime
    actor: str | None
    reason: str | None
    from_status: str | None
    to_status: str | None
    data: dict[str, Any]


class OrderEventList(OutModel):
    data: list[OrderEvent]
