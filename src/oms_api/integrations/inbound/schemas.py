"""HTTP contract of inbound deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from oms_api.kit.schemas import OutModel, Page

Source = Literal["shopify", "woocommerce"]
OutcomeName = Literal["pending", "processed", "held", "failed", "ignored"]


class InboundReceipt(OutModel):
    """What a platform is told: the delivery is stored (or was already), and will be or has been applied."""

    id: uuid.UUID | None = Field(description="The stored inbound event (null for a ping, which is not stored)")
    outcome: OutcomeName
    duplicate: bool = Field(description="True when this delivery id was received before (nothing new is done)")


class InboundEventSummary(OutModel):
    id: uuid.UUID
    source: Source
    channel_id: uuid.UUID
    external_id: str = Field(description="The platform's delivery id")
    topic: str
    received_at: datetime
    processed_at: datetime | None
    outcome: OutcomeName
    attempts: int
    next_attempt_at: datetime | None = Field(description="When a pending retry is due")
    error: str | None = Field(description="Why the delivery could not be applied (failed, or pending a retry)")
    note: str | None = Field(description="What was done: the hold reason, or why nothing was done")
    order_id: uuid.UUID | None


class InboundEvent(InboundEventSummary):
    headers: dict[str, str] = Field(description="The platform's headers as received (never credentials)")
    body: str = Field(description="The raw body, exactly as the platform signed it")


class InboundEventList(Page[InboundEventSummary]):
    pass
