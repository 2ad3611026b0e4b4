"""The invoices context's service: what other contexts (and this context's routers) may ask of invoices.

The use cases live in modules named after them:

- ``legal_entities``: the companies that issue documents;
- ``issuing``: drafts and issued invoices of orders and shipments (numbers from ``numbering``);
- ``crediting``: credit notes;
- ``reading``: invoices and credit notes as the API shows them; ``views``: the ``Document`` renderers read;
- ``receivables`` (b2b): what customers paid against invoices, credit limits, aging.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices.crediting import credit_invoice
from oms_api.invoices.issuing import delete_draft, draft_invoice, invoice_order, issue_draft, issue_for_order
from oms_api.invoices.legal_entities import create_entity, get_entity, list_entities, update_entity
from oms_api.invoices.models import Invoice as InvoiceRow
from oms_api.invoices.reading import credit_notes_of, get_credit_note, get_invoice, invoice_view, list_invoices
from oms_api.invoices.receivables import (
    apply_unallocated,
    open_receivables,
    payments_of_invoice,
    receipt_view,
    record_payment,
    refresh_status,
    write_off,
)
from oms_api.invoices.views import (
    document_of_credit_note,
    document_of_invoice,
    invoice_event_data,
    invoice_view_of,
    summary_view,
)

__all__ = [
    "apply_unallocated",
    "create_entity",
    "credit_invoice",
    "credit_notes_of",
    "delete_draft",
    "document_of_credit_note",
    "document_of_invoice",
    "draft_invoice",
    "find_by_number",
    "get_credit_note",
    "get_entity",
    "get_invoice",
    "invoice_event_data",
    "invoice_order",
    "invoice_view",
    "invoice_view_of",
    "issue_draft",
    "issue_for_order",
    "list_entities",
    "list_invoices",
    "open_receivables",
    "payments_of_invoice",
    "receipt_view",
    "record_payment",
    "refresh_status",
    "summary_view",
    "update_entity",
    "write_off",
]


async def find_by_number(session: AsyncSession, number: str) -> InvoiceRow | None:
    """The invoice numbered ``number`` (accounting's inbound payments name invoices by their number)."""
    return (await session.execute(select(InvoiceRow).where(InvoiceRow.number == number))).scalar_one_or_none()
