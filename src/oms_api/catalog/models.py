"""Catalog tables."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Sku(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "skus"
    __table_args__ = (
        CheckConstraint("weight_g >= 0", name="weight_non_negative"),
        CheckConstraint("length_mm >= 0 AND width_mm >= 0 AND height_mm >= 0", name="dimensions_non_negative"),
        Index("ix_skus_tax_category_id", "tax_category", "id"),
    )

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    barcode: Mapped[str | None] = mapped_column(String(14), unique=True)
    weight_g: Mapped[int] = mapped_column(default=0)
    length_mm: Mapped[int] = mapped_column(default=0)
    width_mm: Mapped[int] = mapped_column(default=0)
    height_mm: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    tax_category: Mapped[str] = mapped_column(
        String(32), default="standard", server_default="standard", doc="A code of taxes' tax_categories"
    )
