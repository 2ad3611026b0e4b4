"""The inbound_events table: every storefront delivery, stored raw before anything is done with it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin


class InboundEvent(IdMixin, Base):
    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("source", "channel_id", "external_id"),
        Index("ix_inbound_events_due", "outcome", "next_attempt_at"),
        # ``GET /v1/inbound-events``'s filters, each ending in ``id`` (the list's order).
        Index("ix_inbound_events_source_id", "source", "id"),
        Index("ix_inbound_events_outcome_id", "outcome", "id"),
        Index("ix_inbound_events_channel_id_id", "channel_id", "id"),
    )

    source: Mapped[str] = mapped_column(String(32), doc="shopify or woocommerce")
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(255), doc="The platform's delivery id (dedupes retries)")
    topic: Mapped[str] = mapped_column(String(100))
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The platform's headers (never credentials)")
    body: Mapped[str] = mapped_column(Text, doc="The raw body, exactly as signed")
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None, doc="A pending retry waits until then")
    error: Mapped[str | None] = mapped_column(String(2000), default=None)
    note: Mapped[str | None] = mapped_column(String(2000), default=None)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True, default=None)
