"""Picking tables: the warehouse's layout (zones, bins, where each SKU lives) and pick lists.

A bin is located by zone, aisle, position along the aisle and level: enough for a walking
order (picking/domain.py) without a floor plan. A shipment line is picked through at most one
pick-list line (unique), so two pickers are never sent for the same units.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Zone(IdMixin, VersionMixin, TimestampMixin, Base):
    """An area of a warehouse that one picker owns (zone picking); ``sequence`` orders the walk."""

    __tablename__ = "warehouse_zones"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(default=0)


class BinLocation(IdMixin, VersionMixin, TimestampMixin, Base):
    """A storage slot: ``aisle`` + ``position`` along it + ``level`` (shelf height)."""

    __tablename__ = "bin_locations"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"), index=True)
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse_zones.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    aisle: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    level: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class SkuBin(IdMixin, TimestampMixin, Base):
    """Where a SKU is picked from in one warehouse (one bin per SKU per warehouse)."""

    __tablename__ = "sku_bins"
    __table_args__ = (UniqueConstraint("sku_id", "warehouse_id"),)

    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"), index=True)
    bin_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bin_locations.id"), index=True)


class PickList(IdMixin, VersionMixin, TimestampMixin, Base):
    """One picker's round. Lists generated together (a zone run, a wave) share ``group_id``."""

    __tablename__ = "pick_lists"
    # ``GET /v1/pick-lists``'s filters, each ending in ``id`` (the list's order).
    __table_args__ = (
        Index("ix_pick_lists_warehouse_id_id", "warehouse_id", "id"),
        Index("ix_pick_lists_status_id", "status", "id"),
        Index("ix_pick_lists_method_id", "method", "id"),
        Index("ix_pick_lists_group_id_id", "group_id", "id"),
    )

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    method: Mapped[str] = mapped_column(String(16))  # single | batch | zone | wave
    status: Mapped[str] = mapped_column(String(16))  # open | in_progress | completed
    group_id: Mapped[uuid.UUID]
    zone_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("warehouse_zones.id"))
    consolidation_point: Mapped[str | None] = mapped_column(String(64))
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    completed_at: Mapped[datetime | None] = mapped_column(default=None)


class PickListLine(IdMixin, Base):
    """Units of one shipment line to take from one bin; ``tote`` says which order's slot they go in."""

    __tablename__ = "pick_list_lines"
    __table_args__ = (
        UniqueConstraint("shipment_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("picked_quantity >= 0 AND short_quantity >= 0", name="counts_non_negative"),
        CheckConstraint("picked_quantity + short_quantity <= quantity", name="confirmed_within_quantity"),
    )

    pick_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pick_lists.id"), index=True)
    sequence: Mapped[int] = mapped_column(doc="Walking order within the list, from 1")
    tote: Mapped[int] = mapped_column(doc="The order's slot on the picker's cart, from 1")
    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id"), index=True)
    shipment_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment_lines.id"))
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    bin_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bin_locations.id"))
    quantity: Mapped[int]
    picked_quantity: Mapped[int] = mapped_column(default=0)
    short_quantity: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | picked | short
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
