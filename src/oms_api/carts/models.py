"""Cart tables. The stock a cart holds lives in ``reservations`` (``cart_id`` set), not here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Cart(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "carts"
    __table_args__ = (
        Index("ix_carts_status_expires_at", "status", "expires_at"),
        # ``GET /v1/carts``'s filters, each ending in ``id`` (the list's order).
        Index("ix_carts_status_id", "status", "id"),
        Index("ix_carts_channel_id_id", "channel_id", "id"),
        Index("ix_carts_customer_id_id", "customer_id", "id"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # active | converted | expired | abandoned
    expires_at: Mapped[datetime] = mapped_column(doc="When the holds lapse unless the cart is extended")
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), doc="The order made at checkout")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None] = mapped_column(default=None, doc="When it left ``active``")


class CartLine(IdMixin, Base):
    """One SKU of a cart (a SKU appears at most once: its holds are found by cart and SKU)."""

    __tablename__ = "cart_lines"
    __table_args__ = (
        UniqueConstraint("cart_id", "sku_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carts.id"))
    line_no: Mapped[int]
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_minor: Mapped[int | None] = mapped_column(
        BigInteger, doc="Price the shopper saw, if the channel sent it"
    )
