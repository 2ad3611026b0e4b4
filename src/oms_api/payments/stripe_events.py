"""Stripe's webhooks in: verified, stored raw first, once per event id, then applied to the payment they name.

Applied events (``data.object`` is a PaymentIntent, or a Charge naming one):

- ``payment_intent.amount_capturable_updated`` (the authorisation of a manual-capture intent holds) and
  ``payment_intent.succeeded``: an authorisation waiting (pending, or for the customer's action) succeeded; the
  order's payment hold is released. ``succeeded`` also reports the amount received: captures in doubt are settled,
  and an amount captured at Stripe beyond the ledger's is recorded;
- ``payment_intent.payment_failed``: the waiting authorisation failed (the order stays held);
- ``payment_intent.canceled``: what was authorised is released (a void);
- ``charge.refunded``: refunds in doubt are settled, and an amount refunded at Stripe beyond the ledger's is
  recorded.

Receiving stores the event in its own savepoint before anything else, and applies it in another: an event that
cannot be applied is kept with outcome ``failed`` and its reason (Stripe is answered 200: resending it from
Stripe's dashboard applies it again), and a replay of an event applied or ignored changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.integrations import service as gateways
from oms_api.integrations.service import GatewayEvent, GatewayResult, GatewayStatus
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import BadRequest, OmsError, Unauthorized
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.payments import authorizing, ledger, repository
from oms_api.payments.domain import Kind, Step
from oms_api.payments.ledger import Asked, Loaded
from oms_api.payments.models import GatewayEventRow, PaymentTransaction
from oms_api.settings import Settings

log = structlog.get_logger("oms_api.payments")

GATEWAY = "stripe"
AUTHORIZED = frozenset({"payment_intent.amount_capturable_updated", "payment_intent.succeeded"})
HANDLED = AUTHORIZED | {"payment_intent.payment_failed", "payment_intent.canceled", "charge.refunded"}
TEXT_MAX = 2000


class NotConfigured(OmsError):
    """Nothing can be verified without the secret: refused as an unauthenticated delivery (as EasyPost's are), a
    4xx that Stripe retries for three days."""

    status, code, title = 401, "stripe_webhooks_not_configured", "Unauthorized"


@dataclass(frozen=True)
class Receipt:
    id: str
    outcome: str
    duplicate: bool
    note: str | None = None


async def receive(
    session: AsyncSession, settings: Settings, headers: Iterable[tuple[str, str]], body: bytes
) -> Receipt:
    """Verify, store and apply one Stripe event: 401 ``missing_signature`` (no ``Stripe-Signature`` at all), 400
    ``invalid_signature`` (one that does not verify, as Stripe expects) or ``malformed_event``; 401
    ``stripe_webhooks_not_configured`` without ``OMS_STRIPE_WEBHOOK_SECRET`` (Stripe retries for three days)."""
    actor = gateways.platform_actor(GATEWAY)
    gateway = gateways.stripe_gateway(settings)
    given = dict(headers)
    if settings.stripe_webhook_secret and not any(k.lower() == "stripe-signature" and v for k, v in given.items()):
        raise Unauthorized("Send the Stripe-Signature header: Stripe signs every event", code="missing_signature")
    try:
        event = gateway.parse_webhook(body, given)
    except gateways.GatewayNotConfigured as exc:
        raise NotConfigured(str(exc)) from exc
    except gateways.InvalidSignature as exc:
        raise BadRequest(f"Stripe-Signature does not verify: {exc}", code="invalid_signature") from exc
    except gateways.MalformedEvent as exc:
        raise BadRequest(str(exc), code="malformed_event") from exc
    values = {
        "id": uuid7(),
        "gateway": GATEWAY,
        "event_id": event.id[:255],
        "type": event.type[:100],
        "payload": body.decode("utf-8", "replace"),
        "received_at": utcnow(),
        "outcome": "pending",
    }
    async with session.begin_nested():  # stored first, whatever applying it does
        inserted = await repository.insert_event(session, values)
    row = await repository.event_by_id(session, GATEWAY, event.id[:255], for_update=True)
    assert row is not None  # just stored, or stored before
    if not inserted and row.outcome in ("processed", "ignored"):
        return Receipt(event.id, row.outcome, duplicate=True, note=row.note)
    await _apply_stored(session, settings, actor, row, event)
    return Receipt(event.id, row.outcome, duplicate=not inserted, note=row.note)


async def _apply_stored(
    session: AsyncSession, settings: Settings, actor: Principal, row: GatewayEventRow, event: GatewayEvent
) -> None:
    try:
        async with outbox.savepoint(session):
            outcome, note, loaded = await _apply(session, settings, actor, event)
    except OmsError as exc:
        outcome, note, loaded = "failed", exc.detail, None
    except Exception as exc:  # a bug: recorded on the event, never lost, never a 500 to Stripe
        log.exception("stripe_event_not_applied", event_id=event.id)
        outcome, note, loaded = "failed", f"unexpected error: {type(exc).__name__}", None
    row.outcome, row.note, row.processed_at = outcome, (note or None) and note[:TEXT_MAX], utcnow()
    if loaded is not None:
        row.payment_id = loaded.payment.id


async def _apply(
    session: AsyncSession, settings: Settings, actor: Principal, event: GatewayEvent
) -> tuple[str, str | None, Loaded | None]:
    if event.type not in HANDLED:
        return "ignored", f"{event.type} is not an event the OMS acts on", None
    if event.reference is None:
        return "ignored", "the event names no PaymentIntent", None
    found = await repository.by_reference(session, [GATEWAY], event.reference)
    if found is None:
        return "ignored", f"no payment has the PaymentIntent {event.reference}", None
    loaded = await ledger.lock(session, found.id)
    before = len(loaded.entries)
    authorized_now = False
    if event.type in AUTHORIZED:
        authorized_now = await _authorized(session, settings, actor, loaded, event)
        if event.type == "payment_intent.succeeded" and event.amount_received is not None:
            await _catch_up(session, settings, actor, loaded, Kind.CAPTURE, event.amount_received, event)
    elif event.type == "payment_intent.payment_failed":
        for request in _waiting(loaded):
            result = GatewayResult(
                GatewayStatus.FAILED,
                reference=event.reference,
                error_code=event.error_code or "payment_failed",
                error_message=event.error_message,
            )
            await _settle(session, settings, actor, loaded, request, result)
    elif event.type == "payment_intent.canceled":
        await _canceled(session, settings, actor, loaded, event)
    else:
        if event.amount_refunded is not None:
            await _catch_up(session, settings, actor, loaded, Kind.REFUND, event.amount_refunded, event)
    if authorized_now:
        await authorizing.after_authorized(session, settings, actor, loaded)
    elif loaded.figures.captured > 0 and event.type == "payment_intent.succeeded":
        await authorizing.resume(session, actor, loaded.payment.order_id)
    if len(loaded.entries) == before:
        return "processed", "already recorded: nothing to change", loaded
    await ledger.update_order(session, loaded.payment.order_id)
    return "processed", None, loaded


def _waiting(loaded: Loaded) -> list[PaymentTransaction]:
    return ledger.open_requests(loaded, Kind.AUTHORIZATION, also=(Step.REQUIRES_ACTION,))


async def _settle(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    loaded: Loaded,
    request: PaymentTransaction,
    result: GatewayResult,
) -> None:
    outcome = await ledger.settle(session, settings, loaded, request, result, actor.actor)
    await ledger.record(session, loaded, outcome, actor.actor)


async def _authorized(
    session: AsyncSession, settings: Settings, actor: Principal, loaded: Loaded, event: GatewayEvent
) -> bool:
    """Settle waiting authorisations as succeeded; True if one was."""
    settled = False
    for request in _waiting(loaded):
        amount = Money.from_minor(request.amount_minor, request.currency)
        done = GatewayResult(GatewayStatus.SUCCEEDED, reference=event.reference, amount=amount)
        await _settle(session, settings, actor, loaded, request, done)
        settled = True
    return settled


async def _catch_up(
    session: AsyncSession,
    settings: Settings,
    actor: Principal,
    loaded: Loaded,
    kind: Kind,
    at_stripe: Money,
    event: GatewayEvent,
) -> None:
    """Stripe reports ``at_stripe`` captured (or refunded) in all: settle the ledger's operations in doubt as
    succeeded while they fit, and record what remains beyond the ledger as done at Stripe."""
    payment = loaded.payment
    if at_stripe.currency != payment.currency:
        return
    f = loaded.figures
    recorded = f.captured if kind == Kind.CAPTURE else f.refunded
    missing = at_stripe.minor - recorded
    for request in ledger.open_requests(loaded, kind):
        if 0 < request.amount_minor <= missing:
            amount = Money.from_minor(request.amount_minor, request.currency)
            await _settle(
                session, settings, actor, loaded, request, GatewayResult(GatewayStatus.SUCCEEDED, amount=amount)
            )
            missing -= request.amount_minor
    if missing > 0:
        amount = Money.from_minor(missing, payment.currency)
        what = "captured" if kind == Kind.CAPTURE else "refunded"
        asked = Asked(
            kind, amount, f"evt_{event.id}:{kind.value}", final=kind == Kind.CAPTURE, reason=f"{what} at Stripe"
        )
        done = GatewayResult(GatewayStatus.SUCCEEDED, reference=event.reference, amount=amount)
        outcome = await ledger.run(session, settings, loaded, asked, actor.actor, None, recorded=done)
        await ledger.record(session, loaded, outcome, actor.actor)


async def _canceled(
    session: AsyncSession, settings: Settings, actor: Principal, loaded: Loaded, event: GatewayEvent
) -> None:
    """The PaymentIntent was cancelled: voids in doubt succeeded; anything still held is recorded as voided."""
    payment = loaded.payment
    done = GatewayResult(GatewayStatus.SUCCEEDED, reference=event.reference)
    for request in ledger.open_requests(loaded, Kind.VOID):
        await _settle(session, settings, actor, loaded, request, done)
    for request in _waiting(loaded):
        result = GatewayResult(GatewayStatus.FAILED, reference=event.reference, error_code="canceled")
        await _settle(session, settings, actor, loaded, request, result)
    f = loaded.figures
    if f.capturable > 0:
        amount = Money.from_minor(f.capturable, payment.currency)
        asked = Asked(Kind.VOID, amount, f"evt_{event.id}:void", reason="canceled at Stripe")
        outcome = await ledger.run(session, settings, loaded, asked, actor.actor, None, recorded=done)
        await ledger.record(session, loaded, outcome, actor.actor)
