"""Receivables: money received for an order (gateway captures and refunds, bank transfers, payments another
system reports) as receipts, allocated to the order's issued invoices, and the invoices' settlement statuses.

A receipt is never changed; what it settles is its allocations. A capture pays the order's issued invoices oldest
first and what remains waits for the next invoice (``apply_unallocated``, called when one is issued); a refund
first takes back money no invoice holds yet, then un-pays the most recent invoices.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fx import domain as fx_domain
from oms_api.fx import service as fx
from oms_api.invoices import receivables_repository as repo
from oms_api.invoices.domain import settlement
from oms_api.invoices.domain.settlement import InvoiceStatus
from oms_api.invoices.events import InvoiceWrittenOff, ReceiptRecorded
from oms_api.invoices.models import Invoice, Receipt, ReceiptAllocation
from oms_api.invoices.receivables_schemas import InvoicePayments, InvoiceReceipt
from oms_api.invoices.views import invoice_event_data
from oms_api.kit import bus, outbox
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, Unprocessable, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyOut
from oms_api.settings import get_settings

if TYPE_CHECKING:
    from oms_api.payments.events import PaymentMoved

_STATUS_EVENTS = {
    InvoiceStatus.PAID: "invoice.paid",
    InvoiceStatus.PARTIALLY_PAID: "invoice.partially_paid",
    InvoiceStatus.OVERDUE: "invoice.overdue",
}


def today() -> date:
    return utcnow().date()


def due_of(invoice: Invoice) -> int:
    return settlement.amount_due(
        invoice.total_minor, invoice.paid_minor, invoice.credited_minor, invoice.written_off_minor
    )


def refresh_status(invoice: Invoice, today: date) -> None:
    """Derive an issued invoice's status from its figures and due date (a draft stays a draft)."""
    if invoice.number is None:
        return
    invoice.status = settlement.derive_status(
        total=invoice.total_minor,
        paid=invoice.paid_minor,
        credited=invoice.credited_minor,
        written_off=invoice.written_off_minor,
        due_date=invoice.due_date,
        today=today,
    ).value


def event_data(invoice: Invoice) -> dict[str, Any]:
    """The payload of the settlement events: the invoice's summary, as every ``invoice.*`` event carries it."""
    return invoice_event_data(invoice)


def settle(session: AsyncSession, invoice: Invoice, actor: str | None, *, on: date | None = None) -> bool:
    """Refresh the status after the figures moved; bump the version and record the status's event when it
    changed. True when it changed."""
    before = invoice.status
    refresh_status(invoice, on or today())
    invoice.version += 1
    if invoice.status == before:
        return False
    event = _STATUS_EVENTS.get(InvoiceStatus(invoice.status))
    if event is not None:
        outbox.record(session, event, "invoice", invoice.id, event_data(invoice), actor=actor)
    return True


def _allocate(session: AsyncSession, receipt: Receipt, invoice: Invoice, amount: int) -> None:
    session.add(ReceiptAllocation(receipt_id=receipt.id, invoice_id=invoice.id, amount_minor=amount))
    invoice.paid_minor += amount


def unallocated(receipts: list[tuple[Receipt, int]]) -> int:
    """The order's money no invoice holds: payments not allocated, less refunds not taken from an invoice."""
    return sum(
        (r.amount_minor - allocated) if r.kind == "payment" else -(r.amount_minor + allocated)
        for r, allocated in receipts
    )


async def apply_unallocated(session: AsyncSession, invoice: Invoice, actor: str) -> None:
    """Allocate the order's money no invoice holds yet (e.g. captured at placement) to a newly issued invoice, up
    to what it owes, and refresh its status (paid / partially_paid)."""
    receipts = await repo.receipts_of_order(session, invoice.order_id, invoice.currency)
    pots = [(r, r.amount_minor - allocated) for r, allocated in receipts if r.kind == "payment"]
    take = min(unallocated(receipts), due_of(invoice))
    for receipt, share in settlement.spread(take, pots):
        _allocate(session, receipt, invoice, share)
    if take > 0 or invoice.status == InvoiceStatus.DRAFT:
        settle(session, invoice, actor)
    else:
        refresh_status(invoice, today())


async def _conversion(
    session: AsyncSession, amount_minor: int, currency: str, on: date
) -> tuple[str | None, int | None, str | None]:
    """(base currency, base amount, rate) at the rate in force on ``on``; no rate: (base, None, None)."""
    base = get_settings().base_currency
    try:
        conversion = await fx.to_base(session, Money.from_minor(amount_minor, currency), on, base)
    except Unprocessable:
        return base, None, None
    return base, conversion.base_amount.minor, str(conversion.rate)


async def on_payment_moved(session: AsyncSession, event: PaymentMoved) -> None:
    """Every gateway capture or refund becomes a receipt of the order (once per ledger entry), allocated to the
    order's issued invoices."""
    if await repo.receipt_of_transaction(session, event.transaction_id) is not None:
        return
    invoices = [i for i in await repo.issued_invoices_of_order(session, event.order_id) if i.currency == event.currency]
    customer_id = invoices[0].customer_id if invoices else await repo.order_customer(session, event.order_id)
    refund = event.kind == "refund"
    receipt = Receipt(
        id=uuid7(),
        order_id=event.order_id,
        customer_id=customer_id,
        kind="refund" if refund else "payment",
        source="gateway",
        payment_transaction_id=event.transaction_id,
        amount_minor=event.amount_minor,
        currency=event.currency,
        received_on=event.occurred_at.date(),
        reference=event.gateway,
        base_currency=event.base_currency,
        base_amount_minor=event.base_amount_minor,
        fx_rate=event.fx_rate,
        actor=event.actor,
    )
    by_id = {i.id: i for i in invoices}
    if refund:
        waiting = unallocated(await repo.receipts_of_order(session, event.order_id, event.currency))
        newest_first = [(i.id, i.paid_minor) for i in reversed(invoices)]
        shares, _ = settlement.allocate_refund(event.amount_minor, waiting, newest_first)
    else:
        shares, _ = settlement.allocate_payment(event.amount_minor, [(i.id, due_of(i)) for i in invoices])
    await session.flush()  # the ledger entry is pending in the session: written before the receipt naming it
    session.add(receipt)
    await session.flush()
    for invoice_id, share in shares:
        _allocate(session, receipt, by_id[invoice_id], share)
        settle(session, by_id[invoice_id], event.actor)


async def _invoice_to_settle(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    invoice = await repo.get_invoice(session, invoice_id, lock=True)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}", code="invoice_not_found")
    if invoice.number is None:
        raise Conflict("A draft invoice cannot be paid or written off: issue it first", code="invoice_not_issued")
    if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.CREDITED) or due_of(invoice) <= 0:
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.status}: nothing is due on it",
            code="invoice_settled",
            invoice_status=invoice.status,
        )
    return invoice


async def record_payment(
    session: AsyncSession,
    actor_name: str,
    invoice_id: uuid.UUID,
    amount: Money | None,
    *,
    source: str,
    received_on: date,
    reference: str | None,
    external_id: str | None,
) -> Receipt:
    """Money received outside the payments ledger (a bank transfer, a payment accounting reported), allocated to
    one invoice. ``amount`` None pays all that is due. The same ``external_id`` again returns the first receipt
    (the caller's retry, or a notification delivered twice) and changes nothing."""
    if external_id is not None:
        existing = await repo.receipt_by_external_id(session, external_id)
        if existing is not None:
            return existing
    invoice = await _invoice_to_settle(session, invoice_id)
    if external_id is not None:  # again under the invoice's lock: a concurrent retry may have just committed it
        existing = await repo.receipt_by_external_id(session, external_id)
        if existing is not None:
            return existing
    if received_on > today():
        raise field_error("/body/received_on", "money cannot have been received in the future", "date_in_future")
    due = due_of(invoice)
    if amount is None:
        amount_minor = due
    else:
        if amount.currency != invoice.currency:
            raise field_error(
                "/body/amount/currency", f"the invoice is in {invoice.currency}", code="currency_mismatch"
            )
        amount_minor = amount.minor
        if amount_minor <= 0:
            raise field_error("/body/amount/amount", "a payment is a positive amount", code="invalid_amount")
        if amount_minor > due:
            raise field_error(
                "/body/amount/amount",
                f"the invoice has {Money.from_minor(due, invoice.currency)} due",
                code="amount_exceeds_due",
            )
    base, base_amount, rate = await _conversion(session, amount_minor, invoice.currency, received_on)
    receipt = Receipt(
        id=uuid7(),
        order_id=invoice.order_id,
        customer_id=invoice.customer_id,
        kind="payment",
        source=source,
        external_id=external_id,
        amount_minor=amount_minor,
        currency=invoice.currency,
        received_on=received_on,
        reference=reference,
        base_currency=base,
        base_amount_minor=base_amount,
        fx_rate=rate,
        actor=actor_name,
    )
    session.add(receipt)
    await session.flush()
    _allocate(session, receipt, invoice, amount_minor)
    settle(session, invoice, actor_name)
    await bus.publish(
        session,
        ReceiptRecorded(
            receipt_id=receipt.id,
            invoice_id=invoice.id,
            order_id=invoice.order_id,
            customer_id=invoice.customer_id,
            source=source,
            amount_minor=amount_minor,
            currency=invoice.currency,
            base_currency=base,
            base_amount_minor=base_amount,
            fx_rate=rate,
            received_on=received_on,
            reference=reference,
            actor=actor_name,
        ),
    )
    return receipt


async def write_off(session: AsyncSession, actor_name: str, invoice_id: uuid.UUID, reason: str) -> Invoice:
    """Write off what is due on an invoice as uncollectable (it counts as settled from then on)."""
    invoice = await _invoice_to_settle(session, invoice_id)
    amount = due_of(invoice)
    invoice.written_off_minor += amount
    invoice.written_off_on = today()
    base_amount = None if invoice.base_currency is None else base_due(invoice, invoice.base_currency, amount)
    settle(session, invoice, actor_name)
    outbox.record(
        session, "invoice.written_off", "invoice", invoice.id, event_data(invoice), actor=actor_name, reason=reason
    )
    await bus.publish(
        session,
        InvoiceWrittenOff(
            invoice_id=invoice.id,
            order_id=invoice.order_id,
            customer_id=invoice.customer_id,
            amount_minor=amount,
            currency=invoice.currency,
            base_currency=invoice.base_currency,
            base_amount_minor=base_amount,
            fx_rate=invoice.fx_rate,
            reason=reason,
            actor=actor_name,
        ),
    )
    return invoice


def receipt_view(receipt: Receipt, allocated: int) -> InvoiceReceipt:
    """A receipt as an invoice's payments list shows it (``allocated``: its share of that invoice)."""
    base = None
    if receipt.base_currency is not None and receipt.base_amount_minor is not None:
        base = MoneyOut.of(Money.from_minor(receipt.base_amount_minor, receipt.base_currency))
    return InvoiceReceipt(
        id=receipt.id,
        kind=receipt.kind,
        source=receipt.source,
        amount=MoneyOut.of(Money.from_minor(receipt.amount_minor, receipt.currency)),
        allocated=MoneyOut.of(Money.from_minor(abs(allocated), receipt.currency)),
        received_on=receipt.received_on,
        reference=receipt.reference,
        external_id=receipt.external_id,
        payment_transaction_id=receipt.payment_transaction_id,
        base_amount=base,
        created_at=receipt.created_at,
    )


async def payments_of_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> InvoicePayments:
    """The receipts allocated to an invoice, in the order they were allocated, with what remains due."""
    invoice = await repo.get_invoice(session, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}", code="invoice_not_found")
    allocations = await repo.allocations_of_invoice(session, invoice_id)
    return InvoicePayments(
        invoice_id=invoice.id,
        status=invoice.status,
        amount_due=MoneyOut.of(Money.from_minor(max(due_of(invoice), 0), invoice.currency)),
        paid=MoneyOut.of(Money.from_minor(invoice.paid_minor, invoice.currency)),
        data=[receipt_view(receipt, a.amount_minor) for a, receipt in allocations],
    )


def base_due(invoice: Invoice, base_currency: str, due: int | None = None) -> int | None:
    """What is due on an issued invoice (or ``due``) in the base currency at the invoice's own rate (None when it
    was issued without one)."""
    due = due_of(invoice) if due is None else due
    if invoice.currency == base_currency:
        return due
    if invoice.base_currency != base_currency or invoice.fx_rate is None:
        return None
    return fx_domain.convert(Money.from_minor(due, invoice.currency), Decimal(invoice.fx_rate), base_currency).minor


async def open_receivables(session: AsyncSession, customer_id: uuid.UUID, base_currency: str) -> Money:
    """What a customer owes on issued invoices, in the base currency: at each invoice's rate, or the rate in
    force today for one issued without a rate (422 ``fx_rate_missing`` when there is none)."""
    total = 0
    for invoice in await repo.open_invoices_of_customer(session, customer_id):
        converted = base_due(invoice, base_currency)
        if converted is None:
            due = Money.from_minor(due_of(invoice), invoice.currency)
            converted = (await fx.to_base(session, due, today(), base_currency)).base_amount.minor
        total += converted
    return Money.from_minor(total, base_currency)
