"""What a ``webhook_endpoint.*`` event says of an endpoint (never its secret)."""

from __future__ import annotations

from typing import Any

from oms_api.webhooks.models import WebhookEndpoint


def snapshot(endpoint: WebhookEndpoint, counts: tuple[int, int]) -> dict[str, Any]:
    """The event payload of an endpoint; ``counts``: its pending deliveries and unresolved dead letters."""
    return {
        "id": str(endpoint.id),
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "pending_deliveries": counts[0],
        "failed_deliveries": counts[1],
        "version": endpoint.version,
    }
