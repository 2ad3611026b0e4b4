"""An order was placed: take its money as its channel's payment policy says.

- ``on_terms``, or an order that names no payment method for a customer with payment terms (on any channel but an
  ``external`` one, whose storefront takes the money): nothing is asked of a gateway; the order's payment status
  is ``on_terms`` (it is invoiced, and paid by the terms);
- a storefront's own payment (``payment.external_status``): recorded as it is, authorised (and captured when it
  says so) for the grand total, on the storefront's name; nothing is asked of a gateway;
- ``authorize_at_placement`` / ``capture_at_placement`` (and ``external`` with a method): authorise
  ``payment.method`` for the grand total with the channel's gateway (and capture it whole); a refusal, an answer
  still pending or waiting for the customer, or no method at all puts the order on a payment hold, which a later
  success (API, webhook, reconciliation) releases.

The keys sent to the gateway derive from the channel and the order's external reference, which a retried placement
keeps (its order id is new): the gateway answers the retry with what it did the first time.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.customers import service as customers
from oms_api.integrations.service import GatewayResult, GatewayStatus
from oms_api.kit.auth import Principal
from oms_api.kit.money import Money
from oms_api.orders import service as orders
from oms_api.orders.events import OrderPlaced
from oms_api.payments import authorizing, ledger
from oms_api.payments.domain import Kind, OrderPaymentStatus, Step
from oms_api.payments.ledger import Asked
from oms_api.settings import Settings

NEEDS_PAYMENT = frozenset({"authorize_at_placement", "capture_at_placement"})
_HOLD_REASONS = {
    Step.FAILED.value: "payment authorisation failed",
    Step.PENDING.value: "payment authorisation pending: the gateway did not answer yet",
    Step.REQUIRES_ACTION.value: "payment requires the customer's action (3-D Secure)",
}


async def on_order_placed(session: AsyncSession, settings: Settings, event: OrderPlaced) -> None:
    channel = await channels.channel_by_id(session, event.channel_id)
    policy = channel.payment_policy
    given = event.payment or {}
    if policy == "on_terms" or await _on_customer_terms(session, event, policy, given):
        await orders.set_payment_status(session, event.order_id, OrderPaymentStatus.ON_TERMS.value)
        return
    if given.get("external_status"):
        await record_external(session, settings, event, given)
        return
    method = given.get("method")
    if not method:
        if policy in NEEDS_PAYMENT:
            await orders.hold_for_payment(session, event.actor, event.order_id, "no payment method was given")
        return
    total = Money.from_minor(event.grand_total_minor, event.currency)
    if total.minor <= 0:
        return
    stem = authorizing.order_key(event.channel_id, event.external_ref)
    loaded = authorizing.new_payment(session, event.order_id, event.channel_id, channel.payment_gateway, total, method)
    metadata = {"order_id": str(event.order_id)}  # what reconciliation can send again, identically
    key = f"{stem}:{Kind.AUTHORIZATION.value}:placement"
    outcome = await authorizing.authorize(session, settings, event.actor, loaded, str(method), key, metadata)
    if outcome.status == Step.SUCCEEDED and policy == "capture_at_placement":
        captured = await authorizing.capture_whole(session, settings, event.actor, loaded)
        if captured is not None and captured.status != Step.SUCCEEDED:
            await _hold(session, event.actor, event, f"payment capture {captured.status}", captured.error_code)
    elif outcome.status != Step.SUCCEEDED:
        await _hold(session, event.actor, event, _HOLD_REASONS[outcome.status], outcome.error_code)
    await ledger.update_order(session, event.order_id, [loaded], due_minor=event.grand_total_minor)


async def _on_customer_terms(session: AsyncSession, event: OrderPlaced, policy: str, given: dict[str, object]) -> bool:
    """A business customer with payment terms who names no way to pay is invoiced: no card is asked for."""
    if policy == "external" or event.customer_id is None or given.get("method") or given.get("external_status"):
        return False
    billing = await customers.billing_of(session, event.customer_id)
    return billing is not None and billing.terms is not None


async def _hold(session: AsyncSession, actor: Principal, event: OrderPlaced, reason: str, code: str | None) -> None:
    await orders.hold_for_payment(session, actor, event.order_id, f"{reason} ({code})" if code else reason)


async def record_external(
    session: AsyncSession, settings: Settings, event: OrderPlaced, given: dict[str, object]
) -> None:
    """The storefront took the money: an authorisation (and a capture) that succeeded, for the grand total."""
    total = Money.from_minor(event.grand_total_minor, event.currency)
    if total.minor <= 0:
        return
    gateway = str(given.get("gateway") or "external")
    reference = str(given["external_reference"]) if given.get("external_reference") else None
    loaded = authorizing.new_payment(session, event.order_id, event.channel_id, gateway, total, None)
    loaded.payment.gateway_reference = reference
    done = GatewayResult(GatewayStatus.SUCCEEDED, reference=reference, amount=total)
    steps = [Kind.AUTHORIZATION] + ([Kind.CAPTURE] if given.get("external_status") == "captured" else [])
    for kind in steps:
        key = f"pay_{loaded.payment.id}:{kind.value}:external"
        asked = Asked(kind, total, key, final=kind == Kind.CAPTURE, reason=f"taken by {gateway}")
        outcome = await ledger.run(session, settings, loaded, asked, event.actor.actor, None, recorded=done)
        await ledger.record(session, loaded, outcome, event.actor.actor)
    await ledger.update_order(session, event.order_id, [loaded], due_minor=event.grand_total_minor)
