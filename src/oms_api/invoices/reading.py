"""Reading invoices and credit notes: one, lists, an invoice's credit notes."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices import repository, views
from oms_api.invoices.models import Invoice as InvoiceRow
from oms_api.invoices.schemas import CreditNote, CreditNotes, Invoice
from oms_api.kit.pagination import PageParams, Slice


async def get_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    return await invoice_view(session, await views.load_invoice(session, invoice_id))


async def invoice_view(session: AsyncSession, invoice: InvoiceRow) -> Invoice:
    return views.invoice_view(invoice, await repository.invoice_lines(session, invoice.id))


async def list_invoices(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None = None,
    customer_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    due_before: date | None = None,
) -> Slice[InvoiceRow]:
    return await repository.list_invoices(
        session, page, status=status, customer_id=customer_id, order_id=order_id, due_before=due_before
    )


async def get_credit_note(session: AsyncSession, credit_note_id: uuid.UUID) -> CreditNote:
    note = await views.load_credit_note(session, credit_note_id)
    invoice = await views.load_invoice(session, note.invoice_id)
    return views.credit_note_view(note, await repository.credit_note_lines(session, note.id), invoice.number)


async def credit_notes_of(session: AsyncSession, invoice_id: uuid.UUID) -> CreditNotes:
    invoice = await views.load_invoice(session, invoice_id)
    notes = await repository.credit_notes_of(session, invoice.id)
    return CreditNotes(
        invoice_id=invoice.id,
        data=[
            views.credit_note_view(note, await repository.credit_note_lines(session, note.id), invoice.number)
            for note in notes
        ],
    )
