"""Order tables. Money is stored as integer minor units (exact on every database)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin
from oms_api.kit.db_types import TagSet


class Order(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "orders"
    # Each list filter has an index that ends in ``id``, the cursor's order: page one is the first rows of
    # the index, whatever the table's size (see "Lists at scale" in the README).
    __table_args__ = (
        UniqueConstraint("channel_id", "external_ref"),
        Index("ix_orders_status_id", "status", "id"),
        Index("ix_orders_channel_id_id", "channel_id", "id"),
        Index("ix_orders_channel_id_status_id", "channel_id", "status", "id"),
        Index("ix_orders_customer_id_id", "customer_id", "id"),
        Index("ix_orders_external_ref_id", "external_ref", "id"),
        Index("ix_orders_payment_status_id", "payment_status", "id"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    external_ref: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    tags: Mapped[list[str]] = mapped_column(TagSet, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_total_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_total_minor: Mapped[int] = mapped_column(BigInteger)
    grand_total_minor: Mapped[int] = mapped_column(BigInteger)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    held_from: Mapped[str | None] = mapped_column(String(32), doc="Status to return to when a hold is released")
    placed_at: Mapped[datetime] = mapped_column(index=True)
    pickup_warehouse_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("warehouses.id"), default=None, doc="Click-and-collect: the customer collects the order here"
    )
    prices_include_tax: Mapped[bool] = mapped_column(
        default=False, server_default="false", doc="Line prices and shipping include their tax (tax_inclusive)"
    )
    shipping_tax_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), default=None, doc="Tax per rate: [{rate, category, taxable_minor, tax_minor}]"
    )
    payment_status: Mapped[str] = mapped_column(
        String(24), default="unpaid", server_default="unpaid", doc="Derived from the order's payments"
    )
    hold_type: Mapped[str | None] = mapped_column(
        String(32), default=None, doc="Why an order on hold is held: payment, manual…"
    )


class OrderLine(IdMixin, Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int]
    sku_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("skus.id"), doc="Null while the SKU the channel sent is unknown (the order is then on hold)"
    )
    sku: Mapped[str] = mapped_column(String(64), doc="The SKU code as the channel sent it")
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    cancelled_quantity: Mapped[int] = mapped_column(
        default=0, server_default="0", doc="Units cancelled after part of the order shipped (never shipped)"
    )
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[str] = mapped_column(String(12), doc="Decimal fraction as text, e.g. 0.19")
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    tax_category: Mapped[str | None] = mapped_column(
        String(32), default=None, doc="The SKU's tax category, if taxed here"
    )
    total_minor: Mapped[int] = mapped_column(BigInteger)
