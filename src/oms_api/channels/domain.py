"""Sales channel rules (pure)."""

from __future__ import annotations

from typing import Literal, get_args

ChannelType = Literal["web", "marketplace", "pos", "phone", "b2b", "customer_service", "other"]
"""Where orders come from; reports group sales by it, so the set is closed (``other`` for the rest)."""

CHANNEL_TYPES: tuple[str, ...] = get_args(ChannelType)


def inactive_detail(code: str) -> str:
    """What is said of an order or cart for a channel that no longer sells (refused, or held at intake)."""
    return f"channel {code!r} is not active"


PriceBasis = Literal["tax_exclusive", "tax_inclusive"]
"""Whether the channel's prices include tax (EU retail) or have it added on top (US, B2B)."""

PaymentPolicy = Literal["external", "authorize_at_placement", "capture_at_placement", "on_terms"]
"""When the channel's orders take their money: ``external`` (the storefront already took it), authorised at
placement and captured shipment by shipment as each ships, captured whole at placement, or invoiced on terms."""

InvoicePolicy = Literal["per_shipment", "per_order", "manual"]
"""When the channel's orders are invoiced: for each shipment as it ships, once the whole order has shipped, or only
when asked (``POST /v1/orders/{id}/invoices``)."""

PaymentGateway = Literal["test", "stripe"]
"""The gateway a channel's payments go through (the built-in test gateway, or Stripe)."""

ShippingChargeMode = Literal["as_given", "flat", "selected_rate"]
"""Where an order's shipping charge comes from: the order's own ``shipping_price`` (storefronts), the channel's flat
amount (free above a threshold), or the carrier rate its first shipment selects."""

PAYMENT_POLICIES: tuple[str, ...] = get_args(PaymentPolicy)
