"""Carrier tables: carriers, their services, and each service's rate table (zones and weight brackets).

Money is stored as integer minor units of the rate's currency.
"""

from __future__ import annotations

import uuid
from datetime import time

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Carrier(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "carriers"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="table_rate", doc="Which carrier port rates it")
    active: Mapped[bool] = mapped_column(default=True)


class CarrierService(IdMixin, VersionMixin, TimestampMixin, Base):
    """A service level (standard, express…) with its timing rules; its prices are its zones' rates."""

    __tablename__ = "carrier_services"
    __table_args__ = (
        UniqueConstraint("carrier_id", "code"),
        CheckConstraint("transit_days >= 0", name="transit_days_non_negative"),
    )

    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carriers.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    transit_days: Mapped[int] = mapped_column(doc="Business days from pickup to delivery (zones may override)")
    cutoff_time: Mapped[time] = mapped_column(doc="Parcels ready before this local time leave the same day")
    timezone: Mapped[str] = mapped_column(String(64), doc="IANA zone of the cut-off time")
    pickup_days: Mapped[list[str]] = mapped_column(JSON, doc="Weekdays the carrier collects: mon … sun")
    origin_countries: Mapped[list[str]] = mapped_column(JSON, default=list, doc="Empty: ships from anywhere")


class CarrierZone(IdMixin, Base):
    __tablename__ = "carrier_zones"
    __table_args__ = (UniqueConstraint("service_id", "code"),)

    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier_services.id"), index=True)
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(64))
    countries: Mapped[list[str]] = mapped_column(JSON)
    postal_prefixes: Mapped[list[str]] = mapped_column(JSON, default=list)
    transit_days: Mapped[int | None] = mapped_column(default=None)


class CarrierRate(IdMixin, Base):
    """A weight bracket of a zone in one currency: up to ``max_weight_g``, base + per started kg above the
    previous bracket."""

    __tablename__ = "carrier_rates"
    __table_args__ = (
        UniqueConstraint("zone_id", "currency", "max_weight_g"),
        CheckConstraint("max_weight_g > 0", name="max_weight_positive"),
        CheckConstraint("base_minor >= 0 AND per_kg_minor >= 0", name="prices_non_negative"),
    )

    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier_zones.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    max_weight_g: Mapped[int]
    base_minor: Mapped[int] = mapped_column(BigInteger)
    per_kg_minor: Mapped[int] = mapped_column(BigInteger)
