"""Shipment tables: what leaves one warehouse for one order, in packages.

Shared by the fulfilment use cases (shipments, carriers and rates, picking, packing,
documents, tracking); each of those adds its own tables in its own module.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Shipment(IdMixin, VersionMixin, TimestampMixin, Base):
    """One warehouse's part of an order. States: see fulfillment/domain.py."""

    __tablename__ = "shipments"
    # One index per filter of ``GET /v1/shipments``, each ending in ``id`` (the list's order).
    __table_args__ = (
        Index("ix_shipments_order_id_id", "order_id", "id"),
        Index("ix_shipments_warehouse_id_id", "warehouse_id", "id"),
        Index("ix_shipments_status_id", "status", "id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(32))
    pickup: Mapped[bool] = mapped_column(default=False, doc="Click-and-collect: the customer collects it here")
    carrier_code: Mapped[str | None] = mapped_column(String(64))
    service_code: Mapped[str | None] = mapped_column(String(64))
    shipping_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    shipping_currency: Mapped[str | None] = mapped_column(String(3))
    promised_ship_date: Mapped[date | None]
    promised_delivery_date: Mapped[date | None]
    estimated_delivery_date: Mapped[date | None]
    status_reason: Mapped[str | None] = mapped_column(String(500))
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    shipping_choice: Mapped[str | None] = mapped_column(
        String(32), default=None, doc="How the carrier service was chosen: cheapest, fastest, … or by hand"
    )


class ShipmentLine(IdMixin, Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_within_quantity"),
        CheckConstraint("packed_quantity >= 0 AND packed_quantity <= quantity", name="packed_within_quantity"),
    )

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_lines.id"))
    sku_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int]
    picked_quantity: Mapped[int] = mapped_column(default=0)
    short_quantity: Mapped[int] = mapped_column(default=0, doc="Not found at pick time; re-allocated")
    packed_quantity: Mapped[int] = mapped_column(default=0)


class Package(IdMixin, TimestampMixin, Base):
    """A parcel of a shipment: one box, one label, one tracking number."""

    __tablename__ = "packages"

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id"), index=True)
    box_type_id: Mapped[uuid.UUID | None]
    weight_g: Mapped[int] = mapped_column(default=0)
    tracking_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    sealed_at: Mapped[datetime | None] = mapped_column(default=None)


class PackageItem(IdMixin, Base):
    """A unit scanned into a package (pack verification)."""

    __tablename__ = "package_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id"), index=True)
    shipment_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment_lines.id"))
    quantity: Mapped[int]
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrackingEvent(IdMixin, Base):
    """One step of a shipment's journey, told by the carrier (webhook) or by a person (manual update)."""

    __tablename__ = "tracking_events"
    __table_args__ = (Index("ix_tracking_events_shipment", "shipment_id", "occurred_at"),)

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id"))
    package_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("packages.id"), default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(64), default=None)
    source: Mapped[str] = mapped_column(String(32), doc="manual or the carrier integration (easypost)")
    carrier_status: Mapped[str] = mapped_column(String(64), doc="The status as the source said it")
    status: Mapped[str | None] = mapped_column(String(32), doc="The shipment status it maps to, if any")
    applied: Mapped[bool] = mapped_column(default=False, doc="Whether it moved the shipment")
    description: Mapped[str | None] = mapped_column(String(500), default=None)
    location: Mapped[str | None] = mapped_column(String(200), default=None)
    estimated_delivery_date: Mapped[date | None] = mapped_column(default=None)
    occurred_at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CarrierInboundEvent(IdMixin, Base):
    """A carrier webhook delivery, stored raw before it is applied; (source, external_id) dedupes retries."""

    __tablename__ = "carrier_inbound_events"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, doc="The raw body, exactly as received and signed")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), doc="applied, recorded, ignored or failed")
    detail: Mapped[str | None] = mapped_column(String(500))
