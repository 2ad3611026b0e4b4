"""Voiding: release what is authorised and not captured, by the API or when the order is cancelled (whole, or
the unshipped remainder of a partly shipped one)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.integrations.service import GatewayResult, PaymentGateway
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict
from oms_api.kit.money import Money
from oms_api.payments import domain, ledger
from oms_api.payments.domain import Kind, Step
from oms_api.payments.ledger import Asked, Loaded
from oms_api.payments.models import PaymentTransaction
from oms_api.settings import Settings


def voidable(loaded: Loaded) -> bool:
    """Something is authorised and uncaptured, or an authorisation waits for the customer's action."""
    f = loaded.figures
    return f.capturable > 0 or (f.authorization == Step.REQUIRES_ACTION and not f.closed)


async def void_payment(
    session: AsyncSession, settings: Settings, actor: Principal, loaded: Loaded, reason: str | None
) -> PaymentTransaction:
    """Void under ``pay_<id>:void:<n>`` (counted under the payment's lock); the amount is what it releases."""
    payment = loaded.payment
    reference = payment.gateway_reference
    assert reference is not None
    amount = Money.from_minor(loaded.figures.capturable, payment.currency)
    key = domain.gateway_key(payment.id, Kind.VOID, str(loaded.count(Kind.VOID) + 1))

    async def call(gateway: PaymentGateway) -> GatewayResult:
        return await gateway.void(reference, key)

    outcome = await ledger.run(
        session, settings, loaded, Asked(Kind.VOID, amount, key, reason=reason), actor.actor, call
    )
    await ledger.record(session, loaded, outcome, actor.actor)
    return outcome


async def void(
    session: AsyncSession, settings: Settings, actor: Principal, payment_id: uuid.UUID, reason: str | None
) -> Loaded:
    """``POST /v1/payments/{id}/void``: 409 ``nothing_to_void``, ``external_payment``."""
    loaded = await ledger.lock(session, payment_id)
    ledger.check_gateway(loaded.payment)
    if not voidable(loaded) or loaded.payment.gateway_reference is None:
        raise Conflict(
            f"Payment {payment_id} has nothing authorised to release ({loaded.payment.status})",
            code="nothing_to_void",
            payment_status=loaded.payment.status,
        )
    await ledger.require_rate(session, settings, loaded.payment.currency)
    await void_payment(session, settings, actor, loaded, reason)
    await ledger.update_order(session, loaded.payment.order_id)
    return loaded


async def void_order(
    session: AsyncSession, settings: Settings, actor: Principal, order_id: uuid.UUID, reason: str
) -> None:
    """The order was cancelled (or its unshipped remainder was): release what its payments hold uncaptured. What
    was captured stays (a refund is a decision of its own). The order is locked by its cancellation."""
    payments = await ledger.load_order(session, order_id)
    changed = False
    for loaded in payments:
        if loaded.payment.gateway in ledger.GATEWAYS and loaded.payment.gateway_reference and voidable(loaded):
            await void_payment(session, settings, actor, loaded, reason)
            changed = True
    if changed:
        await ledger.update_order(session, order_id, payments)
