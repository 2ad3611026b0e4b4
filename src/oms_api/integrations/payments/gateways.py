"""Which gateway serves a payment: built per call, by name, from the settings (and, for the test gateway, the
caller's session, where its state lives)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.integrations.payments.base import GatewayNotConfigured, PaymentGateway
from oms_api.integrations.payments.stripe_gateway import StripeGateway
from oms_api.integrations.payments.testing import TestGateway
from oms_api.settings import Settings

GATEWAYS = ("test", "stripe")


def stripe_gateway(settings: Settings) -> StripeGateway:
    key, secret = settings.stripe_api_key, settings.stripe_webhook_secret
    return StripeGateway(
        key.get_secret_value() if key else None,
        secret.get_secret_value() if secret else None,
        api_base=settings.stripe_api_base,
        timeout_seconds=settings.payments_gateway_timeout_seconds,
    )


def gateway_for(name: str, session: AsyncSession, settings: Settings) -> PaymentGateway:
    """The gateway called ``name`` (a channel's ``payment_gateway``); ``GatewayNotConfigured`` for another name."""
    if name == "test":
        return TestGateway(session)
    if name == "stripe":
        return stripe_gateway(settings)
    raise GatewayNotConfigured(f"no payment gateway {name!r}")
