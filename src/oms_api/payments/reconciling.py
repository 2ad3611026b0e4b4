"""Settling operations whose outcome is unknown: a gateway call that timed out (or is still processing) is asked
again, with the same idempotency key, and what the gateway answers is appended to the ledger.

A repeated call with the same key never acts twice: the gateway answers what it did (Stripe replays its stored
response; the test gateway too). An authorisation whose gateway reference is known is read instead (``confirm``:
Stripe replays a create's first response, which may itself say ``processing``). An answer still pending appends
nothing (the ledger does not fill with repeats); the payment stays ``pending_since`` and is asked again later.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.integrations.service import GatewayResult, GatewayStatus, PaymentGateway
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.money import Money
from oms_api.payments import authorizing, ledger, repository
from oms_api.payments.domain import Kind, Step
from oms_api.payments.ledger import Loaded
from oms_api.payments.models import PaymentTransaction
from oms_api.settings import Settings

log = structlog.get_logger("oms_api.payments")

BATCH = 50


async def reconcile_pending(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    *,
    limit: int = BATCH,
    older_than: timedelta = timedelta(0),
) -> int:
    """Ask the gateways again about up to ``limit`` payments with an operation in doubt; returns how many were
    looked at. Each payment is settled in a savepoint: one that fails (a bug, a gateway that errs) is logged and
    left pending, and does not stop the others."""
    ids = await repository.pending_ids(session, utcnow() - older_than, limit)
    for payment_id in ids:
        try:
            async with outbox.savepoint(session):
                loaded = await ledger.lock(session, payment_id)
                if loaded.payment.pending_since is not None:
                    await reconcile(session, settings, actor, loaded)
        except Exception:
            log.exception("payment_reconciliation_failed", payment_id=str(payment_id))
    await outbox.flush_events(session)
    return len(ids)


async def reconcile(session: AsyncSession, settings: Settings, actor: Principal, loaded: Loaded) -> None:
    """Settle every request of the (locked) payment whose outcome is unknown, oldest first."""
    payment = loaded.payment
    settled: set[Kind] = set()
    for request in ledger.open_requests(loaded):
        result = await ledger.ask(session, settings, payment, _repeat(loaded, request))
        if result.status == GatewayStatus.PENDING:
            continue
        outcome = await ledger.settle(session, settings, loaded, request, result, actor.actor)
        await ledger.record(session, loaded, outcome, actor.actor)
        if outcome.status == Step.SUCCEEDED:
            settled.add(Kind(request.kind))
    ledger.refresh(loaded)
    if Kind.AUTHORIZATION in settled:
        await authorizing.after_authorized(session, settings, actor, loaded)
    elif Kind.CAPTURE in settled:
        await authorizing.resume(session, actor, payment.order_id)
    await ledger.update_order(session, payment.order_id)


def _repeat(loaded: Loaded, request: PaymentTransaction) -> ledger.Call:
    """The call that was made, made again with its key."""
    payment = loaded.payment
    key = request.idempotency_key or ""
    amount = Money.from_minor(request.amount_minor, request.currency)
    reference = payment.gateway_reference or ""
    kind = Kind(request.kind)

    async def call(gateway: PaymentGateway) -> GatewayResult:
        if kind == Kind.AUTHORIZATION:
            if payment.gateway_reference:
                return await gateway.confirm(reference, f"{key}:reconcile:{len(loaded.entries)}")
            return await gateway.authorize(amount, payment.method or "", key, {"order_id": str(payment.order_id)})
        if kind == Kind.CAPTURE:
            return await gateway.capture(reference, amount, key, request.final)
        if kind == Kind.VOID:
            return await gateway.void(reference, key)
        return await gateway.refund(reference, amount, key, request.reason or "")

    return call
