"""Charging shipping after placement: on a channel whose shipping charge is ``selected_rate``, the carrier rate the
order's first shipment selects becomes the order's shipping charge, taxed by the destination's rule.

Only an order that has no shipping charge yet takes it (a storefront's order keeps what it was sold with, and a
second shipment's rate is the seller's cost, not the customer's), and only in the order's currency.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.money import Money
from oms_api.orders import domain, pricing, reading
from oms_api.orders.history import record_transition
from oms_api.orders.models import Order as OrderRow
from oms_api.taxes import domain as tax_rules
from oms_api.taxes import service as taxes


async def charge_selected_rate(session: AsyncSession, actor: Principal, order_id: uuid.UUID, rate: Money) -> bool:
    """Make ``rate`` the (locked) order's shipping charge if its channel charges the selected rate and the order
    has no charge yet; True when the order changed (``order.updated`` recorded)."""
    order = await reading.load(session, order_id, for_update=True)
    channel = await channels.channel_by_id(session, order.channel_id)
    mode = (channel.shipping_charge or {}).get("mode")
    if mode != "selected_rate" or order.shipping_total_minor or rate.currency != order.currency or not rate.amount:
        return False
    if domain.OrderStatus(order.status) not in domain.EDITABLE:
        return False
    shipping_tax = await _shipping_tax(session, order, rate)
    _apply(order, rate, shipping_tax)
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, "order.updated", view, None, None, actor, reason="shipping charged: the selected rate")
    return True


async def _shipping_tax(session: AsyncSession, order: OrderRow, rate: Money) -> tuple[Money, dict[str, object] | None]:
    address = order.shipping_address or {}
    country = address.get("country")
    if not country:
        return Money.zero(order.currency), None
    rules = await taxes.rates_for(
        session, country, address.get("region"), set(pricing.SHIPPING_CATEGORIES), utcnow().date()
    )
    basis: tax_rules.Basis = "tax_inclusive" if order.prices_include_tax else "tax_exclusive"
    tax, taxed = pricing.tax_shipping(rules, rate, basis)
    return tax, tax_rules.breakdown([taxed])[0].to_json() if taxed is not None else None


def _apply(order: OrderRow, rate: Money, shipping_tax: tuple[Money, dict[str, object] | None]) -> None:
    tax, entry = shipping_tax
    order.shipping_total_minor = rate.minor
    order.shipping_tax_minor = tax.minor
    order.tax_total_minor += tax.minor
    order.grand_total_minor += rate.minor + (0 if order.prices_include_tax else tax.minor)
    if entry is not None:
        order.tax_breakdown = pricing.merge_breakdown(order.tax_breakdown, entry)
    order.version += 1
    order.updated_at = utcnow()
