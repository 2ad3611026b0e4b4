"""Webhook endpoint event types. ``data`` never holds the URL (it may carry tokens) nor any secret."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from oms_api.kit.event_types import declare


class WebhookEndpointEventData(BaseModel):
    id: uuid.UUID
    description: str | None
    event_types: list[str]
    active: bool
    disabled_reason: str | None = Field(description="Why it is disabled: 410 Gone, repeated failures or by hand")
    consecutive_failures: int
    pending_deliveries: int = Field(
        description="Deliveries waiting to be sent; while the endpoint is disabled they wait until it is enabled"
    )
    failed_deliveries: int = Field(
        description="Dead letters not yet redelivered or skipped: later events of their resources wait behind them"
    )
    version: int


ENDPOINT_CREATED = declare("webhook_endpoint.created", "A webhook endpoint was registered.", WebhookEndpointEventData)
ENDPOINT_UPDATED = declare(
    "webhook_endpoint.updated",
    "A webhook endpoint's URL, description or event types changed.",
    WebhookEndpointEventData,
)
ENDPOINT_DELETED = declare("webhook_endpoint.deleted", "A webhook endpoint was deleted.", WebhookEndpointEventData)
ENDPOINT_DISABLED = declare(
    "webhook_endpoint.disabled",
    "A webhook endpoint was disabled: by hand, because it answered 410 Gone, or because deliveries kept failing. "
    "Its pending deliveries (`pending_deliveries`) wait until it is enabled again: subscribe an operations "
    "endpoint to this type to be alerted.",
    WebhookEndpointEventData,
)
ENDPOINT_ENABLED = declare(
    "webhook_endpoint.enabled", "A disabled webhook endpoint was enabled again.", WebhookEndpointEventData
)
ENDPOINT_SECRET_ROTATED = declare(
    "webhook_endpoint.secret_rotated",
    "A webhook endpoint's signing secret was rotated (the old one signs too until it expires).",
    WebhookEndpointEventData,
)
