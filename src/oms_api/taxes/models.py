"""Tax tables: the categories SKUs are taxed in, and the rate of each category by country and region over time.

A rate is stored in millionths (``rate_ppm``: 190000 is 19 %), an integer: exact on every database (SQLite has no
decimal type) and comparable in SQL. Validity is ``[valid_from, valid_to)``: ``valid_to`` is the first day the rate
no longer applies (None: open-ended).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin

PPM = 1_000_000


class TaxCategory(IdMixin, VersionMixin, TimestampMixin, Base):
    """A way goods are taxed (standard, reduced, zero, exempt, books…); ``skus.tax_category`` names one."""

    __tablename__ = "tax_categories"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    builtin: Mapped[bool] = mapped_column(
        default=False, doc="Seeded by the migration (standard, reduced, zero, exempt): never deleted"
    )


class TaxRate(IdMixin, VersionMixin, TimestampMixin, Base):
    """The rate of a category in a country (or one of its regions) for a period; periods of the same country,
    region and category never overlap (checked by the service under a lock of the category)."""

    __tablename__ = "tax_rates"
    __table_args__ = (
        CheckConstraint("rate_ppm >= 0 AND rate_ppm < 1000000", name="rate_is_a_fraction"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_to_after_valid_from"),
        Index("ix_tax_rates_country_id", "country", "id"),
        Index("ix_tax_rates_region_id", "region", "id"),
        Index("ix_tax_rates_category_id", "category", "id"),
    )

    country: Mapped[str] = mapped_column(String(2), doc="ISO 3166-1 alpha-2")
    region: Mapped[str | None] = mapped_column(String(10), default=None, doc="A state or ISO 3166-2 code; None: all")
    category: Mapped[str] = mapped_column(ForeignKey("tax_categories.code"))
    rate_ppm: Mapped[int] = mapped_column(Integer, doc="The rate in millionths: 190000 is 19 %")
    name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, default=None, doc="First day it no longer applies")

    @property
    def rate(self) -> Decimal:
        return from_ppm(self.rate_ppm)


def to_ppm(rate: Decimal) -> int:
    """Millionths of a rate that has at most six decimals."""
    scaled = rate.scaleb(6)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{rate} has more than six decimals")
    return int(scaled)


def from_ppm(value: int) -> Decimal:
    """The rate of a stored value, in its shortest spelling (``0.19``)."""
    rate = Decimal(value).scaleb(-6)
    return Decimal(0) if value == 0 else rate.normalize()
