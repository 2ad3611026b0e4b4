"""Payments an accounting system reports: QuickBooks' change notifications mark our invoices paid.

Each entity change is stored once (``accounting_notifications``, unique per realm, entity, id, operation and
time), in a savepoint before it is applied, so a retried or overlapping notification applies nothing twice. A
``Payment`` created or updated is read from QuickBooks, and each invoice it pays (named by our invoice number) gets
a receipt through ``invoices.service.record_payment`` (source ``accounting``, ``external_id``
``quickbooks:<payment id>:<invoice number>``, deduplicated there too). Other entities are stored as ``ignored``;
a payment of an invoice we do not know, or one invoices refuses (already paid, another currency), is stored as
``ignored`` with the reason. QuickBooks not answering fails the request (502), so that Intuit sends it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting.models import InboundNotification
from oms_api.accounting.schemas import QuickBooksReceipt
from oms_api.integrations import service as integrations
from oms_api.invoices import service as invoices
from oms_api.kit import outbox
from oms_api.kit.errors import BadRequest, OmsError, Unauthorized
from oms_api.kit.money import CurrencyError, Money
from oms_api.settings import Settings

SOURCE = "quickbooks"
ACTOR = "platform:quickbooks"
APPLIED_OPERATIONS = frozenset({"Create", "Update"})
NOTE_MAX = 2000


class NotConfigured(OmsError):
    """Nothing can be verified without the verifier token: refused as an unauthenticated delivery."""

    status, code, title = 401, "quickbooks_webhooks_not_configured", "Unauthorized"


class Unavailable(OmsError):
    status, code, title = 502, "quickbooks_unavailable", "Bad gateway"


async def receive_quickbooks(
    session: AsyncSession, settings: Settings, headers: Iterable[tuple[str, str]], body: bytes
) -> QuickBooksReceipt:
    """Verify and apply one notification: 401 ``quickbooks_webhooks_not_configured`` without
    ``OMS_QUICKBOOKS_VERIFIER_TOKEN``, 401 ``missing_signature`` without ``intuit-signature``, 400
    ``invalid_signature`` or ``malformed_notification``."""
    qb = integrations.quickbooks
    token = settings.quickbooks_verifier_token
    if token is None or not token.get_secret_value():
        raise NotConfigured("OMS_QUICKBOOKS_VERIFIER_TOKEN is not set: notifications cannot be verified")
    signature = next((v for k, v in headers if k.lower() == "intuit-signature"), None)
    if not signature:
        raise Unauthorized(
            "Send the intuit-signature header: Intuit signs every notification", code="missing_signature"
        )
    try:
        qb.verify_signature(token.get_secret_value(), body, signature)
    except qb.InvalidSignature as exc:
        raise BadRequest(f"intuit-signature does not verify: {exc}", code="invalid_signature") from exc
    try:
        changes = qb.parse_notification(body)
    except qb.MalformedNotification as exc:
        raise BadRequest(f"Not a QuickBooks change notification: {exc}", code="malformed_notification") from exc
    applied = duplicates = ignored = 0
    payload = body.decode("utf-8", errors="replace")
    for change in changes:
        row = InboundNotification(
            source=SOURCE,
            change_key=change.key,
            entity=change.name[:64],
            entity_id=change.id[:64],
            operation=change.operation[:32],
            payload=payload,
            outcome="pending",
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            duplicates += 1
            continue
        if change.name != "Payment" or change.operation not in APPLIED_OPERATIONS:
            row.outcome, row.note = "ignored", f"{change.name} {change.operation} is not applied"
            ignored += 1
            continue
        note = await _apply_payment(session, settings, change.id)
        row.outcome, row.note = ("processed", None) if note is None else ("ignored", note[:NOTE_MAX])
        applied += note is None
        ignored += note is not None
    await session.flush()
    return QuickBooksReceipt(changes=len(changes), applied=applied, duplicates=duplicates, ignored=ignored)


async def _apply_payment(session: AsyncSession, settings: Settings, payment_id: str) -> str | None:
    """Record the QuickBooks payment on each invoice it pays; the reason when nothing could be (else None)."""
    qb = integrations.quickbooks
    token = settings.quickbooks_access_token
    try:
        client = qb.QuickBooksClient(
            settings.quickbooks_api_base,
            settings.quickbooks_realm_id,
            token.get_secret_value() if token is not None else None,
        )
        payment = await client.payment(payment_id)
    except qb.NotConfigured as exc:
        raise Unavailable(str(exc)) from exc
    except qb.QuickBooksError as exc:
        raise Unavailable(f"The payment could not be read from QuickBooks: {exc}") from exc
    if not payment.invoices:
        return "the payment pays no invoice"
    notes = []
    for paid in payment.invoices:
        invoice = await invoices.find_by_number(session, paid.number)
        if invoice is None:
            notes.append(f"invoice {paid.number} is not ours")
            continue
        currency = payment.currency or invoice.currency
        try:
            amount = Money.of(Decimal(paid.amount), currency)
        except CurrencyError as exc:
            notes.append(f"invoice {paid.number}: {exc}")
            continue
        try:
            async with outbox.savepoint(session):  # a refusal leaves nothing of its attempt behind
                await invoices.record_payment(
                    session,
                    ACTOR,
                    invoice.id,
                    amount,
                    source="accounting",
                    received_on=payment.txn_date,
                    reference=payment.reference or f"QuickBooks payment {payment.id}",
                    external_id=f"quickbooks:{payment.id}:{paid.number}"[:255],
                )
        except OmsError as exc:
            notes.append(f"invoice {paid.number}: {exc.code}: {exc.detail}")
    return "; ".join(notes) or None
