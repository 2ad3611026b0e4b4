"""Capturing: by the API (any amount up to what is capturable), and shipment by shipment as each ships
(``authorize_at_placement``: each shipment takes its share, the one that completes the order takes the rest)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.integrations.service import GatewayResult, PaymentGateway
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, field_error
from oms_api.kit.money import Money
from oms_api.orders import service as orders
from oms_api.payments import authorizing, domain, ledger, voiding
from oms_api.payments.domain import Kind, Step
from oms_api.payments.ledger import Asked, Loaded
from oms_api.payments.models import PaymentTransaction
from oms_api.payments.schemas import CaptureBody
from oms_api.settings import Settings


async def capture_payment(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    loaded: Loaded,
    amount: Money,
    key: str,
    *,
    final: bool,
    reason: str | None = None,
) -> PaymentTransaction:
    """Capture ``amount`` (already checked against what is capturable) under ``key``; returns the outcome."""
    payment = loaded.payment
    reference = payment.gateway_reference
    assert reference is not None  # something is capturable: an authorisation succeeded

    async def call(gateway: PaymentGateway) -> GatewayResult:
        return await gateway.capture(reference, amount, key, final)

    asked = Asked(Kind.CAPTURE, amount, key, final=final, reason=reason)
    outcome = await ledger.run(session, settings, loaded, asked, actor.actor, call)
    await ledger.record(session, loaded, outcome, actor.actor)
    return outcome


async def capture(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    payment_id: uuid.UUID,
    body: CaptureBody,
    client_key: str | None,
) -> Loaded:
    """``POST /v1/payments/{id}/capture``: 409 ``nothing_to_capture``, ``capture_exceeds_authorized`` (naming what
    is capturable), ``external_payment``; 422 ``currency_mismatch``. A refusal by the gateway is recorded and
    answered (the payment's ``last_error``)."""
    loaded = await ledger.lock(session, payment_id)
    payment = loaded.payment
    ledger.check_gateway(payment)
    capturable = loaded.figures.capturable
    cur = payment.currency
    if body.amount is not None and body.amount.currency != cur:
        raise field_error("/body/amount/currency", f"must be the payment's currency {cur}", "currency_mismatch")
    if capturable <= 0:
        raise Conflict(
            f"Payment {payment_id} has nothing to capture ({payment.status})",
            code="nothing_to_capture",
            payment_status=payment.status,
        )
    amount = body.amount.to_money() if body.amount is not None else Money.from_minor(capturable, cur)
    if amount.minor <= 0 or amount.minor > capturable:
        raise Conflict(
            f"{amount} is more than the {Money.from_minor(capturable, cur)} that can be captured",
            code="capture_exceeds_authorized",
            capturable=str(Money.from_minor(capturable, cur).amount),
            currency=cur,
        )
    await ledger.require_rate(session, settings, cur)
    part = domain.client_key_part(actor.actor, client_key) if client_key else str(loaded.count(Kind.CAPTURE) + 1)
    key = domain.gateway_key(payment.id, Kind.CAPTURE, part)
    outcome = await capture_payment(session, settings, actor, loaded, amount, key, final=body.final)
    if outcome.status == Step.SUCCEEDED:  # a capture refused at placement held the order: the money is in now
        await authorizing.resume(session, actor, payment.order_id)
    await ledger.update_order(session, payment.order_id)
    return loaded


async def capture_shipment(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    order_id: uuid.UUID,
    shipment_id: uuid.UUID,
    shipped: tuple[tuple[uuid.UUID, int], ...],
) -> None:
    """A shipment left: under ``authorize_at_placement``, capture its share of the order (its lines' value pro
    rata per unit, plus the shipping with the first capture), or, when it completes the order, exactly what the
    order still owes, as the final capture. The gateway key names the shipment: a retried shipment never
    captures twice. Nothing happens for an order with nothing capturable (the order is locked by fulfilment)."""
    payments = await ledger.load_order(session, order_id)
    open_ = [p for p in payments if p.figures.capturable > 0 and p.payment.gateway in ("test", "stripe")]
    if not open_:
        return
    channel = await channels.channel_by_id(session, open_[0].payment.channel_id)
    if channel.payment_policy != "authorize_at_placement":
        return
    order = await orders.get_order(session, order_id)
    lines = {
        line.id: domain.LineValue(line.quantity, line.total.to_money().minor, line.cancelled_quantity)
        for line in order.lines
    }
    fulfilled: dict[uuid.UUID, int] = defaultdict(int)
    for line in order.lines:
        fulfilled[line.id] = sum(a.quantity for a in line.allocations if a.status == "fulfilled")
    fully_shipped = all(fulfilled[line_id] >= v.quantity - v.cancelled for line_id, v in lines.items())
    grand_total = order.totals.grand_total.to_money().minor
    captured = sum(p.figures.captured for p in payments)
    in_doubt = sum(p.figures.capture_in_doubt for p in payments)
    outstanding = domain.due(grand_total, lines.values()) - captured - in_doubt
    first = captured == 0 and in_doubt == 0
    share = domain.shipment_share(dict(shipped), lines, domain.shipping_value(grand_total, lines.values()), first)
    amount, final = domain.shipment_capture(share, outstanding, fully_shipped)
    parts = domain.allocate(amount, [p.figures.capturable for p in open_])
    for loaded, part in zip(open_, parts, strict=True):
        last = final or part == loaded.figures.capturable
        if part <= 0:
            continue
        key = domain.gateway_key(loaded.payment.id, Kind.CAPTURE, "shipment", str(shipment_id))
        money = Money.from_minor(part, loaded.payment.currency)
        reason = f"shipment {shipment_id}"
        await capture_payment(session, settings, actor, loaded, money, key, final=last, reason=reason)
    if final:  # the order is complete: an authorisation it did not need is released
        for loaded in open_:
            if loaded.figures.capturable > 0:
                await voiding.void_payment(session, settings, actor, loaded, "the order shipped in full")
    await ledger.update_order(session, order_id, payments)
