"""Channel event types (declared for the catalogue). Integration secrets never appear in events."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from oms_api.kit.event_types import declare


class ChannelEventData(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    type: str
    default_currency: str
    active: bool
    cart_ttl_minutes: int | None = Field(None, description="How long a cart of this channel holds stock")
    configured_integrations: list[str] = Field(
        default_factory=list, description="Storefront integrations with a webhook secret set"
    )
    sourcing: dict[str, Any] | None = Field(
        None, description="Sourcing policy: strategy, allowed_warehouses, max_splits, allow_partial_shipment"
    )
    version: int


CHANNEL_CREATED = declare("channel.created", "A sales channel was created.", ChannelEventData)
CHANNEL_UPDATED = declare("channel.updated", "A sales channel changed.", ChannelEventData)
