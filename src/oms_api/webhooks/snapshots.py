"""What a ``webhook_endpoint.*`` event says of an endpoint (never its secret)."""

from __future__ import annotations

from typing import Any

from oms_api.webhooks.models import WebhookEndpoint


def snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The event payload of an endpoint."""
    return {
        "id": str(endpoint.id),
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "version": endpoint.version,
    }
