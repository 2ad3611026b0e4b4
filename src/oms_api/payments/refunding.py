"""Refunding: give back part or all of what was captured, for a reason, optionally naming the order lines."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.integrations.service import GatewayResult, PaymentGateway
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, ProblemError, ValidationFailed, field_error
from oms_api.kit.money import Money
from oms_api.payments import domain, ledger, repository
from oms_api.payments.domain import Kind
from oms_api.payments.ledger import Asked, Loaded
from oms_api.payments.schemas import RefundBody
from oms_api.settings import Settings


async def _lines_value(
    session: AsyncSession, order_id: uuid.UUID, body: RefundBody
) -> tuple[int, list[dict[str, Any]]]:
    """The value of the refunded lines (pro rata per unit) and their stored form; 422 naming a line that is not
    the order's or more units than it has."""
    amounts = await repository.order_amounts(session, order_id)
    assert amounts is not None
    assert body.lines is not None
    by_id = {line.id: line for line in amounts.lines}
    value, stored, errors = 0, [], []
    for i, given in enumerate(body.lines):
        line = by_id.get(given.order_line_id)
        if line is None:
            errors.append(
                ProblemError(
                    pointer=f"/body/lines/{i}/order_line_id", detail="not a line of the order", code="unknown_line"
                )
            )
            continue
        if given.quantity > line.quantity:
            errors.append(
                ProblemError(
                    pointer=f"/body/lines/{i}/quantity",
                    detail=f"the line has {line.quantity} unit(s)",
                    code="too_many_units",
                )
            )
            continue
        value += domain.units_value(domain.LineValue(line.quantity, line.total_minor), given.quantity)
        stored.append({"order_line_id": str(given.order_line_id), "quantity": given.quantity})
    if errors:
        raise ValidationFailed(errors)
    return value, stored


async def refund(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    payment_id: uuid.UUID,
    body: RefundBody,
    client_key: str | None,
) -> Loaded:
    """``POST /v1/payments/{id}/refund``: 409 ``nothing_to_refund``, ``refund_exceeds_captured`` (naming what is
    refundable), ``external_payment``; 422 ``currency_mismatch`` and for lines that are not the order's.

    The amount is checked against what is refundable under the payment's lock, counting refunds whose outcome is
    not known yet: concurrent refunds take turns and can never give back more than was captured."""
    loaded = await ledger.lock(session, payment_id)
    payment = loaded.payment
    ledger.check_gateway(payment)
    cur = payment.currency
    if body.amount is not None and body.amount.currency != cur:
        raise field_error("/body/amount/currency", f"must be the payment's currency {cur}", "currency_mismatch")
    refundable = loaded.figures.refundable
    lines: list[dict[str, Any]] | None = None
    if body.lines:
        value, lines = await _lines_value(session, payment.order_id, body)
    if refundable <= 0:
        raise Conflict(
            f"Payment {payment_id} has nothing captured to refund ({payment.status})",
            code="nothing_to_refund",
            payment_status=payment.status,
        )
    if body.amount is not None:
        amount = body.amount.to_money()
    elif lines is not None:
        amount = Money.from_minor(min(value, refundable), cur)
    else:
        amount = Money.from_minor(refundable, cur)
    if amount.minor <= 0 or amount.minor > refundable:
        raise Conflict(
            f"{amount} is more than the {Money.from_minor(refundable, cur)} captured and not refunded",
            code="refund_exceeds_captured",
            refundable=str(Money.from_minor(refundable, cur).amount),
            currency=cur,
        )
    await ledger.require_rate(session, settings, cur)
    part = domain.client_key_part(actor.actor, client_key) if client_key else str(loaded.count(Kind.REFUND) + 1)
    key = domain.gateway_key(payment.id, Kind.REFUND, part)
    reference = payment.gateway_reference
    assert reference is not None  # something was captured

    async def call(gateway: PaymentGateway) -> GatewayResult:
        return await gateway.refund(reference, amount, key, body.reason)

    asked = Asked(Kind.REFUND, amount, key, reason=body.reason, lines=lines)
    outcome = await ledger.run(session, settings, loaded, asked, actor.actor, call)
    await ledger.record(session, loaded, outcome, actor.actor)
    await ledger.update_order(session, payment.order_id)
    return loaded
