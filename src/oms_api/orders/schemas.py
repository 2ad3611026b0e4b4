"""HTTP contract of orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from oms_api.customers.schemas import CustomerCreate, CustomerRef
from oms_api.kit.money import MAX_LINE_QUANTITY, MAX_ORDER_LINES
from oms_api.kit.schemas import (
    SINGLE_LINE,
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


PaymentMethod = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$"),
    Field(
        description="A payment method of the channel's gateway (Stripe: pm_…) or, on the test gateway, a test card "
        "number; never stored (payments keep its last four characters)",
        examples=["4242424242424242"],
    ),
]


class OrderPaymentIn(StrictModel):
    """What the order says of its money: a method to authorise with the channel's gateway, or that the channel
    already took it (``external_status``)."""

    method: PaymentMethod | None = None
    external_status: Literal["authorized", "captured"] | None = Field(
        None, description="The channel took the money itself: authorised or captured, for the order's grand total"
    )
    external_reference: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SINGLE_LINE)] | None = (
        Field(None, description="The channel's reference of that payment")
    )

    @model_validator(mode="after")
    def _one_kind(self) -> OrderPaymentIn:
        if (self.method is None) == (self.external_status is None):
            raise ValueError("give method or external_status, not both")
        if self.external_reference is not None and self.external_status is None:
            raise ValueError("external_reference goes with external_status")
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
    shipping_price: Money | None = Field(
        None, description="The shipping charge as sold (kept as given); absent: the channel's shipping charge"
    )
    shipping_tax: Money | None = Field(None, description="Its tax as sold; absent: by the destination's rules")
    prices_include_tax: bool | None = Field(
        None, description="Whether unit prices and shipping include tax; absent: the channel's price basis"
    )
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list, examples=[["vip", "gift"]])
    notes: Text | None = None
    pickup_warehouse: Code | None = Field(
        None, description="Click-and-collect: the warehouse (code or id) where the customer collects the order"
    )
    payment: OrderPaymentIn | None = Field(
        None,
        description="How the order pays: authorised at placement on channels whose payment policy says so (an "
        "order without it, or whose authorisation fails, is held for payment)",
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
    cancelled_quantity: int = Field(0, description="Units cancelled after part of the order shipped")
    unit_price: Money
    discount: Money
    tax_rate: str | None
    tax_category: str | None = Field(None, description="The SKU's tax category, when the service computed the tax")
    tax: Money
    total: Money = Field(description="The line's value after discount, with its tax (included or added)")
    allocations: list[LineAllocation]


class TaxBreakdownEntry(OutModel):
    rate: str = Field(description="Decimal fraction, e.g. 0.19")
    category: str | None = Field(description="Tax category (standard, reduced…; shipping for the shipping charge)")
    taxable: Money = Field(description="The amount taxed at this rate, net of tax")
    tax: Money


class OrderTotals(OutModel):
    subtotal: Money = Field(description="The lines' value before discounts (including tax when prices include it)")
    discount_total: Money
    shipping_total: Money = Field(description="The shipping charge (including its tax when prices include tax)")
    shipping_tax: Money
    tax_total: Money = Field(description="All tax, lines and shipping (included in the prices or added to them)")
    grand_total: Money
    tax_breakdown: list[TaxBreakdownEntry] = Field(description="Tax per rate, when the service computed it")


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
    prices_include_tax: bool = Field(False, description="Line prices and shipping include their tax")
    payment_status: str = Field(
        "unpaid",
        description="Derived from the order's payments: unpaid, authorized, partially_captured, paid, "
        "partially_refunded, refunded or overpaid; on_terms: invoiced, paid later by the customer's payment terms",
    )
    hold_type: str | None = Field(
        None, description="Why an order on hold is held: payment, credit (over the customer's credit limit), manual"
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
    payment_status: str
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
