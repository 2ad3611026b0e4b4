"""How accounting reacts to financial facts (subscribed on the event bus by ``oms_api.bootstrap``, last in each list):
each posts one journal entry in the transaction of the fact, once (a replayed event finds its entry)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting import posting
from oms_api.accounting.domain import (
    credit_note_legs,
    invoice_legs,
    money_in_legs,
    money_out_legs,
    rate_label,
    write_off_legs,
)
from oms_api.accounting.posting import Fact
from oms_api.invoices.domain.document import Document, DocumentKind, LineKind
from oms_api.invoices.events import DocumentIssued, InvoiceWrittenOff, ReceiptRecorded
from oms_api.payments.events import PaymentMoved


def document_json(document: Document) -> dict[str, Any]:
    """The document as JSON (decimals as strings, dates ISO): what was posted, kept on the entry for exports."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    snapshot: dict[str, Any] = plain(dataclasses.asdict(document))
    return snapshot


def _taxes(document: Document) -> list[tuple[str, int]]:
    """Tax per rate (groups of one rate but several categories merged: one tax account per rate)."""
    by_rate: dict[str, int] = {}
    for group in document.tax_groups:
        label = rate_label(group.rate)
        by_rate[label] = by_rate.get(label, 0) + group.tax.minor
    return sorted(by_rate.items(), key=lambda item: Decimal(item[0]))


async def on_document_issued(session: AsyncSession, event: DocumentIssued) -> None:
    """An invoice: Dr receivables / Cr revenue, shipping revenue, tax payable per rate. A credit note: Dr refunds
    and returns, tax payable per rate / Cr receivables. Base amounts at the document's rate (its base total
    anchors receivables); none in force: base pending."""
    doc = event.document
    base_total = doc.base.total.minor if doc.base is not None else None
    taxes = _taxes(doc)
    if doc.kind is DocumentKind.INVOICE:
        shipping = sum(line.net.minor for line in doc.lines if line.kind is LineKind.SHIPPING)
        items = sum(line.net.minor for line in doc.lines if line.kind is not LineKind.SHIPPING)
        legs = invoice_legs(doc.grand_total.minor, items, shipping, taxes, base_total=base_total)
        description = f"Invoice {doc.number}"
    else:
        legs = credit_note_legs(doc.grand_total.minor, doc.net_total.minor, taxes, base_total=base_total)
        corrects = f" (corrects {doc.corrects.number})" if doc.corrects else ""
        description = f"Credit note {doc.number}{corrects}"
    await posting.post(
        session,
        Fact(
            source_type=doc.kind.value,
            source_id=str(event.document_id),
            occurred_on=doc.issue_date,
            description=description,
            currency=doc.currency,
            legs=legs,
            rate=doc.base.fx_rate if doc.base is not None else None,
            base_currency=doc.base.currency if doc.base is not None else None,
            order_id=event.order_id,
            customer_id=event.customer_id,
            invoice_id=event.invoice_id,
            document=document_json(doc),
            actor=event.actor,
        ),
    )


async def on_payment_moved(session: AsyncSession, event: PaymentMoved) -> None:
    """A capture: Dr clearing:<gateway> / Cr receivables; a refund: the reverse. Base: the payment's own
    conversion."""
    capture = event.kind == "capture"
    maker = money_in_legs if capture else money_out_legs
    await posting.post(
        session,
        Fact(
            source_type="payment_capture" if capture else "payment_refund",
            source_id=str(event.transaction_id),
            occurred_on=event.occurred_at.date(),
            description=f"{'Capture' if capture else 'Refund'} through {event.gateway}",
            currency=event.currency,
            legs=maker(event.gateway, event.amount_minor, base=event.base_amount_minor),
            rate=Decimal(event.fx_rate) if event.fx_rate else None,
            base_currency=event.base_currency,
            order_id=event.order_id,
            actor=event.actor,
        ),
    )


async def on_receipt_recorded(session: AsyncSession, event: ReceiptRecorded) -> None:
    """Money that did not come through a gateway (a bank transfer, a payment another system reported): Dr
    clearing:<source> / Cr receivables."""
    await posting.post(
        session,
        Fact(
            source_type="receipt",
            source_id=str(event.receipt_id),
            occurred_on=event.received_on,
            description=f"Receipt ({event.source})" + (f": {event.reference}" if event.reference else ""),
            currency=event.currency,
            legs=money_in_legs(event.source, event.amount_minor, base=event.base_amount_minor),
            rate=Decimal(event.fx_rate) if event.fx_rate else None,
            base_currency=event.base_currency,
            order_id=event.order_id,
            customer_id=event.customer_id,
            invoice_id=event.invoice_id,
            actor=event.actor,
        ),
    )


async def on_invoice_written_off(session: AsyncSession, event: InvoiceWrittenOff) -> None:
    """What remained due was written off: Dr write-offs / Cr receivables."""
    await posting.post(
        session,
        Fact(
            source_type="write_off",
            source_id=str(event.invoice_id),
            occurred_on=posting.today(),
            description=f"Write-off: {event.reason}",
            currency=event.currency,
            legs=write_off_legs(event.amount_minor, base=event.base_amount_minor),
            rate=Decimal(event.fx_rate) if event.fx_rate else None,
            base_currency=event.base_currency,
            order_id=event.order_id,
            customer_id=event.customer_id,
            invoice_id=event.invoice_id,
            actor=event.actor,
        ),
    )
