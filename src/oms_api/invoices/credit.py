"""Credit control: an order that lifts its customer's exposure above the credit limit is placed on a ``credit``
hold (released by a person, with a reason: ``POST /v1/orders/{id}/release-hold``).

Exposure, in the base currency, is what the customer owes on issued invoices (at each invoice's rate) plus what
its running orders, the new one included, will still invoice (at today's rate). An amount that cannot be converted
(no rate in force) counts as a breach: credit is never extended on a guess.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.customers import service as customers
from oms_api.fx import service as fx
from oms_api.invoices import receivables_repository as repo
from oms_api.invoices.receivables import base_due, due_of, today
from oms_api.kit.errors import Unprocessable
from oms_api.kit.money import Money
from oms_api.orders import service as orders
from oms_api.orders.domain import CREDIT_HOLD
from oms_api.orders.events import OrderPlaced
from oms_api.settings import get_settings


@dataclass
class Exposure:
    """A customer's exposure in the base currency minor units, and the currencies that could not be converted."""

    base_currency: str
    receivables: int = 0
    uninvoiced: int = 0
    unconverted: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return self.receivables + self.uninvoiced

    def text(self, minor: int) -> str:
        return str(Money.from_minor(minor, self.base_currency))


async def _to_base(session: AsyncSession, minor: int, currency: str, base: str, on: date) -> int | None:
    if currency == base or minor == 0:
        return minor
    try:
        return (await fx.to_base(session, Money.from_minor(minor, currency), on, base)).base_amount.minor
    except Unprocessable:
        return None


async def exposure_of(session: AsyncSession, customer_id: uuid.UUID, base: str, on: date) -> Exposure:
    """Open receivables plus the not yet invoiced part of the customer's running orders, in ``base``."""
    exposure = Exposure(base)
    for invoice in await repo.open_invoices_of_customer(session, customer_id):
        converted = base_due(invoice, base)
        if converted is None:
            converted = await _to_base(session, due_of(invoice), invoice.currency, base, on)
        if converted is None:
            exposure.unconverted.add(invoice.currency)
        else:
            exposure.receivables += converted
    running = await orders.open_orders_of(session, customer_id)
    invoiced = await repo.invoiced_per_order(session, [order_id for order_id, _, _ in running])
    for order_id, currency, amount in running:
        left = max(amount - invoiced.get(order_id, 0), 0)
        converted = await _to_base(session, left, currency, base, on)
        if converted is None:
            exposure.unconverted.add(currency)
        else:
            exposure.uninvoiced += converted
    return exposure


def breach(exposure: Exposure, limit_minor: int) -> str | None:
    """Why the exposure breaches the limit (the hold's reason, with the figures), or None when it does not."""
    limit = exposure.text(limit_minor)
    figures = (
        f"open invoices {exposure.text(exposure.receivables)}, not yet invoiced orders "
        f"{exposure.text(exposure.uninvoiced)}"
    )
    if exposure.unconverted:
        missing = ", ".join(sorted(exposure.unconverted))
        return (
            f"credit limit {limit} cannot be checked: no exchange rate from {missing} to {exposure.base_currency} "
            f"is in force ({figures} converted)"
        )
    if exposure.total > limit_minor:
        return f"credit limit {limit} exceeded: exposure {exposure.text(exposure.total)} ({figures})"
    return None


async def on_order_placed(session: AsyncSession, event: OrderPlaced) -> None:
    """Hold the new order (``credit``) when its customer's exposure passes the credit limit. Orders of customers
    known to have no limit (the first read of placement says so) cost nothing here."""
    if event.customer_id is None or not event.credit_check:
        return
    billing = await customers.billing_of(session, event.customer_id)
    if billing is None or billing.credit_limit_minor is None:
        return
    exposure = await exposure_of(session, event.customer_id, get_settings().base_currency, today())
    reason = breach(exposure, billing.credit_limit_minor)
    if reason is not None:
        await orders.hold_for(session, event.actor, event.order_id, CREDIT_HOLD, reason)
