"""The integrations context's service: what other contexts may use of it.

Today that is QuickBooks' inbound adapter (``quickbooks``: signatures, notifications, payments read from its
API), and the payment gateway port (``integrations.payments``): the payments context asks a gateway to
authorise, capture, void and refund, and to read its webhooks, through these names only; and who acts when a
platform's webhook changes something (``platform_actor``).
"""

from __future__ import annotations

from oms_api.integrations.accounting import quickbooks as quickbooks
from oms_api.integrations.base import platform_actor
from oms_api.integrations.payments.base import (
    GatewayError,
    GatewayEvent,
    GatewayNotConfigured,
    GatewayResult,
    GatewayStatus,
    GatewayTimeout,
    InvalidSignature,
    MalformedEvent,
    PaymentGateway,
    card_summary,
)
from oms_api.integrations.payments.gateways import GATEWAYS, gateway_for, stripe_gateway

__all__ = [
    "GATEWAYS",
    "GatewayError",
    "GatewayEvent",
    "GatewayNotConfigured",
    "GatewayResult",
    "GatewayStatus",
    "GatewayTimeout",
    "InvalidSignature",
    "MalformedEvent",
    "PaymentGateway",
    "card_summary",
    "gateway_for",
    "platform_actor",
    "quickbooks",
    "stripe_gateway",
]
