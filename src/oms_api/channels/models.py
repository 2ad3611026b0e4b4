"""Sales channel tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin
from oms_api.kit.secrets import EncryptedJSON

SOURCING_DEFAULTS: dict[str, Any] = {
    "strategy": "nearest",
    "allowed_warehouses": [],
    "max_splits": None,
    "allow_partial_shipment": True,
}
"""A channel's sourcing policy until it sets one: nearest warehouse, any warehouse, the service's split limit."""


class Channel(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "channels"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    default_currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True)
    integration_secrets: Mapped[dict[str, Any] | None] = mapped_column(
        EncryptedJSON(),
        default=None,
        doc='Per storefront integration, e.g. {"shopify": {"webhook_secret": "…"}}; sealed at rest, never returned',
    )
    cart_ttl_minutes: Mapped[int] = mapped_column(
        default=30, server_default="30", doc="How long a cart of this channel holds its stock"
    )
    shipping_choice: Mapped[str] = mapped_column(
        String(32), default="cheapest", server_default="cheapest", doc="How a shipment's carrier service is chosen"
    )
    sourcing_policy: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, default=None, doc="Sourcing policy fields set for this channel (the rest take their defaults)"
    )
    price_basis: Mapped[str] = mapped_column(
        String(16),
        default="tax_exclusive",
        server_default="tax_exclusive",
        doc="tax_exclusive (tax added on top) or tax_inclusive (prices include it)",
    )
    payment_policy: Mapped[str] = mapped_column(
        String(32), default="external", server_default="external", doc="When orders take their money"
    )
    payment_gateway: Mapped[str] = mapped_column(
        String(16), default="test", server_default="test", doc="The gateway payments go through (test or stripe)"
    )
    shipping_charge: Mapped[dict[str, Any] | None] = mapped_column(
        JSON,
        default=None,
        doc='How orders are charged shipping, e.g. {"mode": "flat", "amount_minor": 495, "free_over_minor": 5000}; '
        "null: as the order gives it",
    )

    invoice_policy: Mapped[str] = mapped_column(
        String(16),
        default="manual",
        server_default="manual",
        doc="per_shipment (an invoice when each shipment ships), per_order (when the order has shipped), or manual",
    )
    legal_entity: Mapped[str | None] = mapped_column(
        String(32), default=None, doc="Code of the legal entity that invoices its orders (null: the default one)"
    )

    @property
    def sourcing(self) -> dict[str, Any]:
        """The channel's sourcing policy with defaults filled in (see allocation.domain.Strategy)."""
        return {**SOURCING_DEFAULTS, **(self.sourcing_policy or {})}

    @property
    def configured_integrations(self) -> list[str]:
        """The integrations that have a webhook secret (what the API shows instead of the secrets)."""
        secrets = self.integration_secrets or {}
        return sorted(name for name, config in secrets.items() if config and config.get("webhook_secret"))
