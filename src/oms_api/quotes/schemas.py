"""HTTP contract of quotes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from oms_api.kit.money import MAX_LINE_QUANTITY, MAX_ORDER_LINES
from oms_api.kit.schemas import Address, Code, CurrencyCode, Money, OutModel, Page, StrictModel, Text
from oms_api.orders.schemas import TaxBreakdownEntry
from oms_api.quotes.domain import QuoteStatus

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
QuoteStatusName = QuoteStatus


class QuoteLineIn(StrictModel):
    sku: Code
    quantity: Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY)]
    unit_price: Money = Field(
        description="The negotiated unit price (the catalogue keeps no prices, so every line gives one); net or "
        "gross by the quote's prices_include_tax"
    )
    discount: Money | None = Field(None, description="Discount on the whole line (not per unit)")


Lines = Annotated[list[QuoteLineIn], Field(min_length=1, max_length=MAX_ORDER_LINES)]


class QuoteCreate(StrictModel):
    channel: Code = Field(description="The channel the order will be placed in (code or id)")
    customer_id: uuid.UUID = Field(description="The business customer the quote is for")
    currency: CurrencyCode | None = Field(None, description="Defaults to the channel's currency")
    valid_until: date | None = Field(None, description="The last day it may be accepted; default: in 30 days")
    reserve_stock: bool = Field(False, description="Hold the stock from sending until the end of valid_until")
    shipping_address: Address = Field(description="Where the order will ship; taxes follow it")
    billing_address: Address | None = None
    lines: Lines = Field(description="One line per SKU")
    shipping_price: Money | None = Field(None, description="The negotiated shipping charge; absent: the channel's")
    prices_include_tax: bool | None = Field(None, description="Whether prices include tax; absent: the channel's")
    notes: Text | None = None


class QuoteUpdate(StrictModel):
    """A draft's changes: what is sent replaces what it had (``lines`` all of them); the quote is priced again."""

    valid_until: date | None = None
    reserve_stock: bool | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    lines: Lines | None = None
    shipping_price: Money | None = Field(None, description="Sent as null: the channel's charge again")
    prices_include_tax: bool | None = None
    notes: Text | None = None


class QuoteDecline(StrictModel):
    reason: Reason


class QuoteLine(OutModel):
    id: uuid.UUID
    line_no: int
    sku: str
    sku_id: uuid.UUID
    name: str
    quantity: int
    unit_price: Money
    discount: Money
    tax_rate: str | None
    tax_category: str | None
    tax: Money
    total: Money = Field(description="The line's value after discount, with its tax (included or added)")


class QuoteTotals(OutModel):
    subtotal: Money = Field(description="The lines' value before discounts (including tax when prices include it)")
    discount_total: Money
    shipping_total: Money
    shipping_tax: Money
    tax_total: Money = Field(description="All tax, lines and shipping")
    grand_total: Money
    tax_breakdown: list[TaxBreakdownEntry]


class Quote(OutModel):
    id: uuid.UUID
    number: str = Field(description="Q-2026-000123; the order's external_ref once accepted")
    channel: str
    channel_id: uuid.UUID
    customer_id: uuid.UUID
    currency: str
    status: str = Field(description="draft, sent, accepted (see order_id), declined or expired")
    allowed_transitions: list[str]
    valid_until: date = Field(description="The last day (UTC) it may be accepted")
    reserve_stock: bool
    stock_held_until: datetime | None = Field(
        description="While sent with reserve_stock: when the held stock lapses (the end of valid_until)"
    )
    shipping_address: Address
    billing_address: Address | None
    notes: str | None
    prices_include_tax: bool
    lines: list[QuoteLine]
    totals: QuoteTotals
    sent_at: datetime | None
    accepted_at: datetime | None
    declined_at: datetime | None
    expired_at: datetime | None
    decline_reason: str | None
    order_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class QuoteSummary(OutModel):
    """A quote in lists (no lines)."""

    id: uuid.UUID
    number: str
    channel_id: uuid.UUID
    customer_id: uuid.UUID
    currency: str
    status: str
    valid_until: date
    reserve_stock: bool
    grand_total: Money
    order_id: uuid.UUID | None
    created_at: datetime
    version: int


class QuoteList(Page[QuoteSummary]):
    pass
