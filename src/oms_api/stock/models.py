"""Stock tables: warehouses, stock levels, the movement ledger and reservations.

The CHECK constraints are the last line of defence of the stock invariants (nothing
negative, reserved <= on_hand); the services never rely on them firing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Warehouse(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "warehouses"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=True)
    priority: Mapped[int] = mapped_column(default=0)
    serves_countries: Mapped[list[str] | None] = mapped_column(
        JSON, default=None, doc="ISO country codes it ships to; null or empty: everywhere (sourcing's hard constraint)"
    )


class StockLevel(IdMixin, VersionMixin, Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("sku_id", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_levels_warehouse_id_id", "warehouse_id", "id"),
    )

    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    reorder_point: Mapped[int | None] = mapped_column(default=None)
    safety_stock: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockMovement(IdMixin, Base):
    """Append-only ledger: every change of a stock level, by anyone, is one row here."""

    __tablename__ = "stock_movements"
    # One index per filter of ``GET /v1/stock-movements``, each ending in ``id`` (the list's order).
    __table_args__ = (
        Index("ix_stock_movements_level", "sku_id", "warehouse_id", "id"),
        Index("ix_stock_movements_sku_id_id", "sku_id", "id"),
        Index("ix_stock_movements_warehouse_id_id", "warehouse_id", "id"),
        Index("ix_stock_movements_type_id", "type", "id"),
        Index("ix_stock_movements_reference_id", "reference", "id"),
    )

    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    type: Mapped[str] = mapped_column(String(32))
    on_hand_delta: Mapped[int]
    reserved_delta: Mapped[int]
    on_hand_after: Mapped[int]
    reserved_after: Mapped[int]
    reason: Mapped[str | None] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(200))
    group_id: Mapped[uuid.UUID | None] = mapped_column(doc="Ties the rows of one transfer or one order")
    note: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Reservation(IdMixin, Base):
    """Stock held for an order line, or for a cart (a hold, with ``cart_id`` and ``expires_at``), at one warehouse."""

    __tablename__ = "reservations"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int]
    order_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    order_line_id: Mapped[uuid.UUID | None]
    cart_id: Mapped[uuid.UUID | None] = mapped_column(
        index=True, doc="The cart holding this stock (a hold: expires at expires_at unless checked out)"
    )
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | released | fulfilled
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(default=None)
