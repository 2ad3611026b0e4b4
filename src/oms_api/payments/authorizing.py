"""Authorising: a new payment for an order (by the API, or at placement by the channel's policy), confirming one
that required the customer's action, and what follows a success."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.integrations.service import GatewayResult, PaymentGateway
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.orders import service as orders
from oms_api.payments import domain, ledger, repository, voiding
from oms_api.payments.domain import Kind, Step
from oms_api.payments.ledger import Asked, Loaded
from oms_api.payments.models import Payment, PaymentTransaction
from oms_api.payments.schemas import PaymentCreate
from oms_api.settings import Settings

UNPAYABLE = frozenset({"cancelled", "completed"})
WAITING = frozenset({Step.REQUESTED, Step.PENDING, Step.REQUIRES_ACTION})


def new_payment(
    session: AsyncSession, order_id: uuid.UUID, channel_id: uuid.UUID, gateway: str, amount: Money, method: str | None
) -> Loaded:
    """A payment row for ``amount`` (its ledger is empty until the first operation, which adds it to the
    session)."""
    now = utcnow()
    payment = Payment(
        id=uuid7(),
        order_id=order_id,
        channel_id=channel_id,
        gateway=gateway[:32],
        gateway_reference=None,
        currency=amount.currency,
        amount_minor=amount.minor,
        method=domain.method_summary(method) if method else None,
        status=domain.PaymentStatus.PENDING.value,
        pending_since=None,
        version=0,
        created_at=now,
        updated_at=now,
    )
    return Loaded(payment)


def order_key(channel_id: uuid.UUID, external_ref: str) -> str:
    """A stable name of an order for gateway keys: a retried placement (a new order id, the same order) sends the
    same keys, so the gateway answers what it did instead of authorising twice."""
    return "ord_" + hashlib.sha256(f"{channel_id}\n{external_ref}".encode()).hexdigest()[:32]


async def authorize(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    loaded: Loaded,
    method: str,
    key: str,
    metadata: Mapping[str, str],
) -> PaymentTransaction:
    """Authorise the new payment's amount with ``method`` on its gateway, under ``key``; returns the outcome."""
    payment = loaded.payment
    amount = Money.from_minor(payment.amount_minor, payment.currency)

    async def call(gateway: PaymentGateway) -> GatewayResult:
        return await gateway.authorize(amount, method, key, metadata)

    outcome = await ledger.run(session, settings, loaded, Asked(Kind.AUTHORIZATION, amount, key), actor.actor, call)
    await ledger.record(session, loaded, outcome, actor.actor)
    return outcome


async def capture_whole(
    session: AsyncSession, settings: Settings, actor: Principal, loaded: Loaded
) -> PaymentTransaction | None:
    """``capture_at_placement``: take everything authorised, as the final capture (None: nothing to take)."""
    payment = loaded.payment
    capturable = loaded.figures.capturable
    reference = payment.gateway_reference
    if capturable <= 0 or reference is None:
        return None
    amount = Money.from_minor(capturable, payment.currency)
    key = domain.gateway_key(payment.id, Kind.CAPTURE, "placement")

    async def call(gateway: PaymentGateway) -> GatewayResult:
        return await gateway.capture(reference, amount, key, True)

    asked = Asked(Kind.CAPTURE, amount, key, final=True, reason="captured at placement")
    outcome = await ledger.run(session, settings, loaded, asked, actor.actor, call)
    await ledger.record(session, loaded, outcome, actor.actor)
    return outcome


async def resume(session: AsyncSession, actor: Principal, order_id: uuid.UUID) -> None:
    """The order's money is secured (authorised or captured): resume it if it was held for its payment (a no-op
    otherwise)."""
    await orders.release_payment_hold(session, actor, order_id, "payment secured")


async def after_authorized(session: AsyncSession, settings: Settings, actor: Principal, loaded: Loaded) -> None:
    """An authorisation that succeeded after it was asked (confirmed, reconciled, reported by a webhook): capture
    it if the channel captures at placement, then resume the order if it was held for its payment; release it
    if the order was cancelled meanwhile."""
    payment = loaded.payment
    if (await orders.load(session, payment.order_id)).status in UNPAYABLE:  # cancelled while it was in doubt
        if voiding.voidable(loaded):
            await voiding.void_payment(session, settings, actor, loaded, "the order was cancelled")
        return
    channel = await channels.channel_by_id(session, payment.channel_id)
    if channel.payment_policy == "capture_at_placement" and loaded.figures.captured == 0:
        outcome = await capture_whole(session, settings, actor, loaded)
        if outcome is not None and outcome.status != Step.SUCCEEDED:
            return
    await resume(session, actor, payment.order_id)


def _held(payments: list[Loaded]) -> int:
    """What an order's payments hold: kept (captured less refunded), still capturable, or being authorised."""
    held = 0
    for loaded in payments:
        f = loaded.figures
        held += f.captured - f.refunded + f.capturable
        if f.authorized == 0 and f.authorization in WAITING and not f.closed:
            held += loaded.payment.amount_minor
    return held


async def authorize_for_order(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    order_id: uuid.UUID,
    body: PaymentCreate,
    client_key: str | None,
) -> Loaded:
    """``POST /v1/orders/{id}/payments``: authorise a new payment with the order's channel's gateway.

    The payment is recorded whatever the gateway answers (a decline is a ``failed`` payment, not an error); a
    success resumes an order held for payment. 409 ``order_not_payable`` for a cancelled order,
    ``nothing_to_authorize`` when its payments already hold what it owes; 422 ``currency_mismatch``. With the
    client's ``Idempotency-Key`` the gateway key derives from it, so a retry that the OMS could not answer from
    its own record (the first attempt failed after the gateway acted) is answered by the gateway."""
    await orders.lock_order(session, order_id)
    amounts = await repository.order_amounts(session, order_id)
    assert amounts is not None  # the order exists: it is locked
    if amounts.status in UNPAYABLE:
        raise Conflict(f"Order {order_id} is {amounts.status}", code="order_not_payable", order_status=amounts.status)
    if body.amount is not None and body.amount.currency != amounts.currency:
        raise field_error(
            "/body/amount/currency", f"must be the order currency {amounts.currency}", "currency_mismatch"
        )
    await ledger.require_rate(session, settings, amounts.currency)
    existing = await ledger.load_order(session, order_id)
    if body.amount is not None:
        amount = body.amount.to_money()
    else:
        lines = [domain.LineValue(x.quantity, x.total_minor, x.cancelled_quantity) for x in amounts.lines]
        owed = domain.due(amounts.grand_total_minor, lines)
        amount = Money.from_minor(owed - _held(existing), amounts.currency)
    if amount.minor <= 0:
        raise Conflict(
            f"Order {order_id}'s payments already hold what it owes",
            code="nothing_to_authorize",
            order_id=str(order_id),
        )
    channel = await channels.channel_by_id(session, amounts.channel_id)
    loaded = new_payment(session, order_id, amounts.channel_id, channel.payment_gateway, amount, body.method)
    if client_key is not None:
        key = f"ord_{order_id}:{Kind.AUTHORIZATION.value}:{domain.client_key_part(actor.actor, client_key)}"
    else:
        key = domain.gateway_key(loaded.payment.id, Kind.AUTHORIZATION)
    outcome = await authorize(session, settings, actor, loaded, body.method, key, {"order_id": str(order_id)})
    if outcome.status == Step.SUCCEEDED:
        await after_authorized(session, settings, actor, loaded)
    await ledger.update_order(session, order_id, [*existing, loaded])
    return loaded


async def confirm(session: AsyncSession, settings: Settings, actor: Principal, payment_id: uuid.UUID) -> Loaded:
    """``POST /v1/payments/{id}/confirm``: the customer completed the gateway's challenge (3-D Secure); ask the
    gateway how the authorisation stands and record it. 409 ``nothing_to_confirm`` unless one waits."""
    loaded = await ledger.lock(session, payment_id)
    payment = loaded.payment
    ledger.check_gateway(payment)
    await ledger.require_rate(session, settings, payment.currency)
    waiting = ledger.open_requests(loaded, Kind.AUTHORIZATION, also=(Step.REQUIRES_ACTION,))
    reference = payment.gateway_reference
    if not waiting or reference is None:
        raise Conflict(f"Payment {payment_id} has no authorisation waiting", code="nothing_to_confirm")
    request = waiting[-1]
    key = f"{request.idempotency_key}:confirm:{len(loaded.entries)}"

    async def call(gateway: PaymentGateway) -> GatewayResult:
        return await gateway.confirm(reference, key)

    result = await ledger.ask(session, settings, payment, call)
    outcome = await ledger.settle(session, settings, loaded, request, result, actor.actor)
    await ledger.record(session, loaded, outcome, actor.actor)
    if outcome.status == Step.SUCCEEDED:
        await after_authorized(session, settings, actor, loaded)
    await ledger.update_order(session, payment.order_id)
    return loaded
