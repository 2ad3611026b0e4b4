"""Quote tables: quotes, their lines, and the counter their numbers come from.

Money is integer minor units in the quote's currency, priced by orders' pricing when the quote was drafted or
changed (``orders.service.preview_order``). The stock a sent quote holds lives in ``reservations`` (holds whose
holder id is the quote's id), not here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Quote(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "quotes"
    __table_args__ = (
        # ``GET /v1/quotes``'s filters, each in an index ending in ``id`` (the list's order).
        Index("ix_quotes_status_id", "status", "id"),
        Index("ix_quotes_customer_id_id", "customer_id", "id"),
        # The expiry job: sent quotes past their validity.
        Index("ix_quotes_status_valid_until", "status", "valid_until"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True, doc="Q-2026-000123; the order's external_ref")
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), doc="draft, sent, accepted, declined or expired")
    valid_until: Mapped[date] = mapped_column(doc="The last day it may be accepted")
    reserve_stock: Mapped[bool] = mapped_column(default=False, doc="Hold the stock from sending until valid_until")
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    shipping_price_minor: Mapped[int | None] = mapped_column(
        BigInteger, default=None, doc="The shipping charge as negotiated; null: the channel's charge"
    )
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_tax_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger, doc="Lines' and shipping's tax")
    grand_total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    declined_at: Mapped[datetime | None] = mapped_column(default=None)
    expired_at: Mapped[datetime | None] = mapped_column(default=None)
    decline_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id"), default=None, doc="The order its acceptance placed"
    )


class QuoteLine(IdMixin, Base):
    """One SKU of a quote at its negotiated price (a SKU appears once: a held quote's holds are found by SKU)."""

    __tablename__ = "quote_lines"
    __table_args__ = (
        UniqueConstraint("quote_id", "sku_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    quote_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quotes.id"))
    line_no: Mapped[int]
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, doc="Negotiated unit price")
    discount_minor: Mapped[int] = mapped_column(BigInteger, doc="Discount on the whole line")
    tax_rate: Mapped[str | None] = mapped_column(String(12), default=None, doc="Decimal fraction as text")
    tax_category: Mapped[str | None] = mapped_column(String(32), default=None)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger, doc="Discounted value with its tax (added or included)")


class QuoteNumber(Base):
    """The next quote number of a year. Taken with one ``UPDATE … RETURNING`` in the creating transaction, so
    numbers are unique and readable; a rolled-back creation gives its number back."""

    __tablename__ = "quote_numbers"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    next_number: Mapped[int] = mapped_column(default=1)
