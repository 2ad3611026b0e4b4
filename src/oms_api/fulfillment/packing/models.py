"""Packing tables: the standard boxes of each warehouse and what a package was planned to hold.

Packages and the units scanned into them live in the shared fulfilment tables
(``packages``, ``package_items``); a package made from a box selection also remembers
its plan here, so a scan can tell a wrong box from a wrong item.
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class BoxType(IdMixin, VersionMixin, TimestampMixin, Base):
    """A standard carton: inner dimensions (mm), the content weight it carries (g) and what it costs."""

    __tablename__ = "box_types"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "code"),
        CheckConstraint("inner_length_mm > 0 AND inner_width_mm > 0 AND inner_height_mm > 0", name="dimensions"),
        CheckConstraint("max_weight_g > 0 AND tare_weight_g >= 0", name="weights"),
        CheckConstraint("cost_minor >= 0", name="cost_non_negative"),
    )

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    inner_length_mm: Mapped[int]
    inner_width_mm: Mapped[int]
    inner_height_mm: Mapped[int]
    max_weight_g: Mapped[int] = mapped_column(doc="Content weight the box carries (tare excluded)")
    tare_weight_g: Mapped[int] = mapped_column(default=0)
    cost_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True)


class PlannedItem(IdMixin, Base):
    """Units of a shipment line that the box selection put in a package."""

    __tablename__ = "package_planned_items"
    __table_args__ = (
        UniqueConstraint("package_id", "shipment_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id"), index=True)
    shipment_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment_lines.id"))
    quantity: Mapped[int]
