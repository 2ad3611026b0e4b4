"""Credit notes: the one correction of an issued invoice. Issued at once, from the entity's own gap-free credit note
series, at the invoice's rate; the invoice's ``credited_minor`` grows by the note's total and its status is derived
again (``credited`` once notes cover its whole total)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fx import domain as fx_rules
from oms_api.invoices import numbering, repository, views
from oms_api.invoices.domain import credits
from oms_api.invoices.domain.drafting import DraftLine, summed
from oms_api.invoices.domain.numbers import DocType
from oms_api.invoices.events import DocumentIssued
from oms_api.invoices.issuing import today
from oms_api.invoices.models import CreditNote, CreditNoteLine, Invoice
from oms_api.invoices.schemas import CreditNoteCreate
from oms_api.kit import bus, outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money


async def _lines_of(session: AsyncSession, invoice: Invoice, body: CreditNoteCreate) -> list[DraftLine]:
    """What the note gives back, checked against what remains uncredited of each line (422 otherwise)."""
    rows = await repository.invoice_lines(session, invoice.id)
    facts = {
        row.id: credits.InvoiceLineFacts(
            row.id,
            row.kind,
            row.sku,
            row.name,
            row.quantity,
            row.net_minor,
            row.tax_minor,
            row.tax_rate,
            row.tax_category,
        )
        for row in rows
    }
    credited = await repository.credited_per_line(session, invoice.id)
    lines: list[DraftLine] = []
    if body.amount is not None and body.tax_rate is not None:
        if body.amount.currency != invoice.currency:
            raise field_error(
                "/body/amount/currency", f"must be the invoice's currency {invoice.currency}", "currency_mismatch"
            )
        rates: dict[str, str | None] = {}
        for row in rows:
            rates.setdefault(row.tax_rate, row.tax_category)
        gross = body.amount.to_money().minor
        lines.append(credits.amount_credit(gross, Decimal(body.tax_rate), rates, "/body/tax_rate"))
        return lines
    asked: dict[uuid.UUID, int] = {}
    for i, given in enumerate(body.lines or []):
        line = facts.get(given.invoice_line_id)
        if line is None or line.kind != "item":
            raise field_error(f"/body/lines/{i}/invoice_line_id", "not an item line of this invoice", "unknown_line")
        if given.invoice_line_id in asked:
            raise field_error(f"/body/lines/{i}/invoice_line_id", "this line is named twice", "duplicate_line")
        asked[given.invoice_line_id] = given.quantity
        before = credited.get(line.id, credits.Credited())
        lines.append(credits.line_credit(line, given.quantity, before, f"/body/lines/{i}/quantity"))
    if body.shipping:
        shipping = [line for line in facts.values() if line.kind == "shipping"]
        if not shipping:
            raise field_error("/body/shipping", "the invoice bills no shipping", "no_shipping")
        for line in shipping:
            before = credited.get(line.id, credits.Credited())
            lines.append(credits.line_credit(line, line.quantity - before.quantity, before, "/body/shipping"))
    return lines


async def credit_invoice(
    session: AsyncSession, actor: Principal, invoice_id: uuid.UUID, body: CreditNoteCreate
) -> CreditNote:
    """Issue a credit note against an issued invoice (409 ``invoice_draft``; 422 ``credit_exceeds_invoice``)."""
    invoice = await views.load_invoice(session, invoice_id, for_update=True)
    if invoice.number is None or invoice.status == "draft":
        raise Conflict("A draft has nothing to correct: delete it or change it before issuing", code="invoice_draft")
    try:
        drafted = await _lines_of(session, invoice, body)
        if any(line.quantity <= 0 for line in drafted):
            raise credits.CreditRefused("/body/shipping", "the shipping is credited already", "credit_exceeds_invoice")
        totals = summed(drafted)
        credits.check_total(totals.total_minor, invoice.total_minor, invoice.credited_minor)
    except credits.CreditRefused as exc:
        raise field_error(exc.pointer, str(exc), exc.code) from exc
    on = today()
    taken = await numbering.take_number(session, invoice.legal_entity_id, DocType.CREDIT_NOTE, on.year)
    note = CreditNote(
        id=uuid7(),
        legal_entity_id=invoice.legal_entity_id,
        invoice_id=invoice.id,
        order_id=invoice.order_id,
        customer_id=invoice.customer_id,
        series_id=taken.series_id,
        sequence=taken.sequence,
        number=taken.number,
        issue_date=on,
        issued_at=utcnow(),
        reason=body.reason,
        currency=invoice.currency,
        subtotal_minor=sum(line.net_minor for line in drafted if line.kind != "shipping"),
        shipping_minor=totals.shipping_minor,
        tax_minor=totals.tax_minor,
        total_minor=totals.total_minor,
        tax_breakdown=[g.to_json() for g in totals.breakdown],
        seller=invoice.seller,
        buyer=invoice.buyer,
        actor=actor.actor,
    )
    if invoice.base_currency and invoice.fx_rate and invoice.fx_rate_date:  # the invoice's rate, never a new one
        rate = Decimal(invoice.fx_rate)
        base = invoice.base_currency
        note.base_currency, note.fx_rate, note.fx_rate_date = base, invoice.fx_rate, invoice.fx_rate_date
        note.base_total_minor = fx_rules.convert(Money.from_minor(note.total_minor, note.currency), rate, base).minor
        note.base_tax_minor = fx_rules.convert(Money.from_minor(note.tax_minor, note.currency), rate, base).minor
    rows = [
        CreditNoteLine(
            id=uuid7(),
            credit_note_id=note.id,
            invoice_line_id=line.order_line_id,
            line_no=no,
            kind=line.kind,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
            net_minor=line.net_minor,
            tax_rate=line.tax_rate,
            tax_category=line.tax_category,
            tax_minor=line.tax_minor,
            total_minor=line.total_minor,
        )
        for no, line in enumerate(drafted, start=1)
    ]
    repository.add(session, note)
    await session.flush()
    repository.add(session, *rows)
    invoice.credited_minor += note.total_minor
    await _settle(session, invoice, actor.actor)
    await session.flush()
    outbox.record(
        session,
        "credit_note.issued",
        "credit_note",
        note.id,
        views.credit_note_event_data(note, invoice.number),
        actor=actor.actor,
    )
    document = views.document_from_credit_note(note, rows, invoice)
    await bus.publish(
        session, DocumentIssued(note.id, invoice.id, invoice.order_id, invoice.customer_id, document, actor.actor)
    )
    return note


async def _settle(session: AsyncSession, invoice: Invoice, actor: str) -> None:
    """The invoice's status after the credit (b2b's receivables derive it and record its event)."""
    from oms_api.invoices import receivables

    before = invoice.status
    receivables.settle(session, invoice, actor, on=today())
    if invoice.status == "credited" and before != "credited":
        outbox.record(
            session, "invoice.credited", "invoice", invoice.id, views.invoice_event_data(invoice), actor=actor
        )
