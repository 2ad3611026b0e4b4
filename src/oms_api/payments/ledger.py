"""The ledger: load a payment with its entries, run one gateway operation into a request and its outcome, and keep
the derived statuses (the payment's, and the order's through ``orders.service``) current.

One operation = one request entry (what was asked, the idempotency key sent, the amount and its conversion to the
base currency) and one outcome entry (succeeded, failed, pending or requires_action), appended in the caller's
transaction. A gateway that does not answer (``GatewayTimeout``) leaves a ``pending`` outcome and marks the payment
``pending_since``: the reconciliation job (``reconciling``) repeats the call with the same key and appends what the
gateway answers. A later outcome supersedes an earlier one; no entry is ever changed.

The request entry is written in the OMS transaction, not committed before the call: a crash between the gateway
acting and the commit leaves no entry, and the same operation, retried, derives the same idempotency key, so the
gateway answers what it did instead of acting twice (Stripe's webhooks also report amounts the ledger lacks).
Committing the request first would need a second writer, which SQLite's one-writer lock does not allow.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fx import domain as fx_domain
from oms_api.fx import service as fx
from oms_api.integrations import service as gateways
from oms_api.integrations.service import GatewayResult, GatewayStatus, PaymentGateway
from oms_api.kit import bus, outbox
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, OmsError
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.orders import service as orders
from oms_api.payments import domain, repository
from oms_api.payments.domain import Kind, Step
from oms_api.payments.events import PaymentMoved
from oms_api.payments.models import Payment, PaymentTransaction
from oms_api.payments.views import entry_of, event_data
from oms_api.settings import Settings

_FX_CACHE = "oms_payments_fx"
_STEP_OF = {
    GatewayStatus.SUCCEEDED: Step.SUCCEEDED,
    GatewayStatus.FAILED: Step.FAILED,
    GatewayStatus.PENDING: Step.PENDING,
    GatewayStatus.REQUIRES_ACTION: Step.REQUIRES_ACTION,
}
Call = Callable[[PaymentGateway], Awaitable[GatewayResult]]
GATEWAYS = frozenset({"test", "stripe"})
"""Gateways the OMS calls; a payment on any other (a storefront's) was recorded, and is changed where it was
taken."""


def check_gateway(payment: Payment) -> None:
    """Only payments on a gateway the OMS calls can be captured, voided, refunded or confirmed here."""
    if payment.gateway not in GATEWAYS:
        raise Conflict(
            f"Payment {payment.id} was taken by {payment.gateway}: change it there",
            code="external_payment",
            gateway=payment.gateway,
        )


@dataclass
class Loaded:
    """A payment and its ledger, as read under its lock (entries appended here as they are written)."""

    payment: Payment
    entries: list[PaymentTransaction] = field(default_factory=list)

    @property
    def figures(self) -> domain.Figures:
        return domain.figures(entry_of(row) for row in self.entries)

    def count(self, kind: Kind) -> int:
        return sum(1 for row in self.entries if row.kind == kind and row.request_id is None)


async def load(session: AsyncSession, payment_id: uuid.UUID, *, for_update: bool = True) -> Loaded:
    """The payment and its ledger (404 ``payment_not_found``); locked by default."""
    payment = await repository.get(session, payment_id, for_update=for_update)
    if payment is None:
        raise NotFound(f"No payment {payment_id}", code="payment_not_found")
    return Loaded(payment, (await repository.entries_of(session, [payment.id])).get(payment.id, []))


async def load_order(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = True) -> list[Loaded]:
    """The order's payments with their ledgers, oldest first (locked by default, in id order)."""
    payments = await repository.of_order(session, order_id, for_update=for_update)
    entries = await repository.entries_of(session, [p.id for p in payments])
    return [Loaded(p, entries.get(p.id, [])) for p in payments]


Rate = tuple[Decimal, date]


async def conversion(session: AsyncSession, settings: Settings, currency: str, on: date) -> Rate | None:
    """The rate from ``currency`` to the base currency in force on ``on``, looked up once per currency and day in a
    transaction; None when no rate was published (the entry is then recorded unconverted, see ``require_rate``)."""
    cache: dict[tuple[str, date], Rate | None] = session.info.setdefault(_FX_CACHE, {})
    key = (currency, on)
    if key not in cache:
        try:
            converted = await fx.to_base(session, Money.zero(currency), on, settings.base_currency)
        except OmsError as exc:
            if exc.code != "fx_rate_missing":
                raise
            cache[key] = None
        else:
            cache[key] = (converted.rate, converted.rate_date)
    return cache[key]


async def require_rate(session: AsyncSession, settings: Settings, currency: str) -> None:
    """For an operation an API client asks for: 422 ``fx_rate_missing`` before anything is asked of a gateway.

    Reactions (a placement, a storefront's order, a shipment, a cancellation, a webhook, the worker) are not
    refused for a missing rate: that would lose an order or stop a shipment over bookkeeping. Their entries are
    recorded without a conversion (``fx`` null), and never with a guessed rate."""
    if await conversion(session, settings, currency, utcnow().date()) is None:
        await fx.to_base(session, Money.zero(currency), utcnow().date(), settings.base_currency)  # raises the 422


def _fx_columns(amount_minor: int, currency: str, rate: Rate | None, base: str) -> dict[str, Any]:
    if rate is None:
        return {"fx_rate": None, "fx_rate_date": None, "base_currency": None, "base_amount_minor": None}
    base_amount = fx_domain.convert(Money.from_minor(amount_minor, currency), rate[0], base)
    return {
        "fx_rate": str(rate[0]),
        "fx_rate_date": rate[1],
        "base_currency": base,
        "base_amount_minor": base_amount.minor,
    }


@dataclass(frozen=True, slots=True)
class Asked:
    """One operation as asked of the gateway."""

    kind: Kind
    amount: Money
    key: str
    final: bool = False
    reason: str | None = None
    lines: list[dict[str, Any]] | None = None


async def run(
    session: AsyncSession,
    settings: Settings,
    loaded: Loaded,
    asked: Asked,
    actor: str,
    call: Call | None,
    *,
    recorded: GatewayResult | None = None,
) -> PaymentTransaction:
    """Ask the gateway (``call``) and append the request and its outcome; ``recorded`` instead of a call records
    what happened elsewhere (a storefront's payment, a gateway's webhook). Returns the outcome entry."""
    payment = loaded.payment
    rate = await conversion(session, settings, asked.amount.currency, utcnow().date())
    request = PaymentTransaction(
        id=uuid7(),
        payment_id=payment.id,
        request_id=None,
        kind=asked.kind.value,
        status=Step.REQUESTED.value,
        amount_minor=asked.amount.minor,
        currency=asked.amount.currency,
        final=asked.final,
        idempotency_key=asked.key,
        gateway_reference=payment.gateway_reference,
        reason=asked.reason,
        lines=asked.lines,
        actor=actor,
        created_at=utcnow(),
        **_fx_columns(asked.amount.minor, asked.amount.currency, rate, settings.base_currency),
    )
    result = recorded or await ask(session, settings, payment, call)
    outcome = _outcome(payment, request, result, rate, settings.base_currency, actor)
    loaded.entries += [request, outcome]
    refresh(loaded, result)
    # A new payment joins the session only now, with its derived columns: one INSERT, and none before the call
    # (the test gateway flushes its own state while it answers).
    repository.add(session, payment, request, outcome)
    return outcome


async def settle(
    session: AsyncSession,
    settings: Settings,
    loaded: Loaded,
    request: PaymentTransaction,
    result: GatewayResult,
    actor: str,
) -> PaymentTransaction:
    """Append the outcome the gateway now gives for an earlier request (reconciliation, a webhook)."""
    rate: Rate | None = None
    if request.fx_rate and request.fx_rate_date:  # the outcome converts at its request's rate
        rate = (Decimal(request.fx_rate), request.fx_rate_date)
    else:
        rate = await conversion(session, settings, request.currency, utcnow().date())
    outcome = _outcome(loaded.payment, request, result, rate, settings.base_currency, actor)
    repository.add(session, outcome)
    loaded.entries.append(outcome)
    refresh(loaded, result)
    return outcome


async def lock(session: AsyncSession, payment_id: uuid.UUID) -> Loaded:
    """The payment with its ledger, locked after its order: every writer locks the order first (fulfilment, order
    cancellation, payments), so two of them never wait on each other in opposite orders. 404 ``payment_not_found``."""
    found = await repository.get(session, payment_id)
    if found is None:
        raise NotFound(f"No payment {payment_id}", code="payment_not_found")
    await orders.lock_order(session, found.order_id)
    return await load(session, payment_id)


async def ask(session: AsyncSession, settings: Settings, payment: Payment, call: Call | None) -> GatewayResult:
    """The gateway's answer to ``call``; no answer in time is ``pending`` (``gateway_timeout``), a gateway without
    its credentials is ``failed`` (``gateway_not_configured``)."""
    assert call is not None
    try:
        gateway = gateways.gateway_for(payment.gateway, session, settings)
        return await call(gateway)
    except gateways.GatewayTimeout as exc:
        return GatewayResult(GatewayStatus.PENDING, error_code="gateway_timeout", error_message=str(exc)[:500])
    except gateways.GatewayNotConfigured as exc:
        return GatewayResult(GatewayStatus.FAILED, error_code="gateway_not_configured", error_message=str(exc)[:500])


def _outcome(
    payment: Payment,
    request: PaymentTransaction,
    result: GatewayResult,
    rate: Rate | None,
    base: str,
    actor: str,
) -> PaymentTransaction:
    step = _STEP_OF[result.status]
    amount = result.amount if (step == Step.SUCCEEDED and result.amount is not None) else None
    amount_minor = amount.minor if amount is not None and amount.currency == request.currency else request.amount_minor
    return PaymentTransaction(
        id=uuid7(),
        payment_id=payment.id,
        request_id=request.id,
        kind=request.kind,
        status=step.value,
        amount_minor=amount_minor,
        currency=request.currency,
        final=request.final,
        gateway_reference=result.reference or payment.gateway_reference,
        reason=request.reason,
        lines=None,
        error_code=(result.error_code or None) and str(result.error_code)[:100],
        error_message=(result.error_message or None) and str(result.error_message)[:500],
        actor=actor,
        created_at=utcnow(),
        **_fx_columns(amount_minor, request.currency, rate, base),
    )


def refresh(loaded: Loaded, result: GatewayResult | None = None) -> None:
    """Keep the payment row's derived columns current after its ledger grew."""
    payment = loaded.payment
    if result is not None:
        if result.reference and not payment.gateway_reference:
            payment.gateway_reference = result.reference
        if result.method_summary and not payment.method:
            payment.method = result.method_summary[:100]
    ops = domain.operations(entry_of(row) for row in loaded.entries)
    in_doubt = any(op.state in domain.IN_DOUBT for op in ops)
    payment.pending_since = (payment.pending_since or utcnow()) if in_doubt else None
    payment.status = domain.payment_status(loaded.figures).value
    payment.version += 1
    payment.updated_at = utcnow()


def open_requests(loaded: Loaded, kind: Kind | None = None, *, also: tuple[Step, ...] = ()) -> list[PaymentTransaction]:
    """Requests whose outcome is not known yet (no outcome, or pending; and the ``also`` states), oldest first."""
    by_id = {row.id: row for row in loaded.entries if row.request_id is None}
    states = domain.IN_DOUBT | set(also)
    return [
        by_id[op.request.id]
        for op in domain.operations(entry_of(row) for row in loaded.entries)
        if op.state in states and (kind is None or op.kind == kind)
    ]


_EVENT_OF = {
    (Kind.AUTHORIZATION, Step.SUCCEEDED): "payment.authorized",
    (Kind.AUTHORIZATION, Step.FAILED): "payment.authorization_failed",
    (Kind.AUTHORIZATION, Step.REQUIRES_ACTION): "payment.action_required",
    (Kind.CAPTURE, Step.SUCCEEDED): "payment.captured",
    (Kind.VOID, Step.SUCCEEDED): "payment.voided",
    (Kind.REFUND, Step.SUCCEEDED): "payment.refunded",
}


async def record(session: AsyncSession, loaded: Loaded, outcome: PaymentTransaction, actor: str) -> None:
    """The public event of an outcome: ``payment.<what happened>``, ``payment.failed`` for a refused capture,
    void or refund, ``payment.pending`` for an outcome still unknown; and, when money moved (a capture or refund
    succeeded), the domain event ``PaymentMoved`` for invoices and accounting."""
    step = Step(outcome.status)
    kind = Kind(outcome.kind)
    name = _EVENT_OF.get((kind, step)) or ("payment.pending" if step == Step.PENDING else "payment.failed")
    data = event_data(loaded.payment, loaded.entries, outcome)
    outbox.record(session, name, "payment", loaded.payment.id, data, actor=actor, reason=outcome.reason)
    if step == Step.SUCCEEDED and kind in (Kind.CAPTURE, Kind.REFUND):
        await bus.publish(
            session,
            PaymentMoved(
                order_id=loaded.payment.order_id,
                payment_id=loaded.payment.id,
                transaction_id=outcome.id,
                kind=kind.value,
                amount_minor=outcome.amount_minor,
                currency=outcome.currency,
                gateway=loaded.payment.gateway,
                base_currency=outcome.base_currency,
                base_amount_minor=outcome.base_amount_minor,
                fx_rate=outcome.fx_rate,
                occurred_at=outcome.created_at,
                actor=actor,
            ),
        )


async def update_order(
    session: AsyncSession,
    order_id: uuid.UUID,
    payments: Sequence[Loaded] | None = None,
    *,
    due_minor: int | None = None,
) -> str:
    """Derive the order's payment status from all its payments (read when not given) and store it on the order
    (``orders.service``). ``due_minor``: what the order owes, when the caller knows it (placement), else read."""
    if payments is None:
        await session.flush()  # the session does not autoflush: the entries just appended must be read back
        payments = await load_order(session, order_id, for_update=False)
    if due_minor is None:
        amounts = await repository.order_amounts(session, order_id)
        assert amounts is not None  # payments exist only for orders
        lines = [domain.LineValue(line.quantity, line.total_minor, line.cancelled_quantity) for line in amounts.lines]
        due_minor = domain.due(amounts.grand_total_minor, lines)
    status = domain.order_payment_status(due_minor, [p.figures for p in payments]).value
    await orders.set_payment_status(session, order_id, status)
    return status
