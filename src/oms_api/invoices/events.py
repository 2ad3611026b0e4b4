"""What invoices tell others: the public event types (``invoice.*``, ``credit_note.*``, ``legal_entity.*``) and the
domain events accounting posts to the journal, on the in-process bus."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from oms_api.invoices.domain.document import Document
from oms_api.invoices.schemas import CreditNoteEventData, InvoiceEventData, LegalEntity
from oms_api.kit.event_types import declare

# --- public event types (issuing side) ------------------------------------------------------------------------------

LEGAL_ENTITY_CREATED = declare("legal_entity.created", "A legal entity that issues invoices was added.", LegalEntity)
LEGAL_ENTITY_UPDATED = declare(
    "legal_entity.updated", "A legal entity changed (issued documents keep the seller as it was).", LegalEntity
)
INVOICE_DRAFTED = declare("invoice.drafted", "A draft invoice was created (no number yet).", InvoiceEventData)
INVOICE_ISSUED = declare(
    "invoice.issued", "An invoice was issued: numbered in its gap-free series, never changed after.", InvoiceEventData
)
INVOICE_DELETED = declare("invoice.deleted", "A draft invoice was deleted (it never had a number).", InvoiceEventData)
INVOICE_PARTIALLY_PAID = declare(
    "invoice.partially_paid", "Part of an issued invoice was paid (amount_due says what remains).", InvoiceEventData
)
INVOICE_PAID = declare("invoice.paid", "An invoice was paid in full.", InvoiceEventData)
INVOICE_OVERDUE = declare("invoice.overdue", "An invoice passed its due date with money still due.", InvoiceEventData)
INVOICE_CREDITED = declare("invoice.credited", "Credit notes now cover an invoice's whole total.", InvoiceEventData)
INVOICE_WRITTEN_OFF = declare(
    "invoice.written_off", "What remained due on an invoice was written off as uncollectable.", InvoiceEventData
)
CREDIT_NOTE_ISSUED = declare(
    "credit_note.issued", "A credit note corrected an issued invoice (own gap-free series).", CreditNoteEventData
)


@dataclass(frozen=True, slots=True)
class DocumentIssued:
    """Domain event: an invoice or credit note was issued (numbered; never changed after). Published in the
    issuing transaction; accounting posts it (receivables against revenue, shipping and tax per rate)."""

    document_id: uuid.UUID
    """The invoice's or credit note's id."""
    invoice_id: uuid.UUID
    """The invoice (for a credit note: the one it corrects)."""
    order_id: uuid.UUID
    customer_id: uuid.UUID | None
    document: Document
    actor: str


@dataclass(frozen=True, slots=True)
class ReceiptRecorded:
    """Domain event: money for an order that did not come through the payments ledger was recorded against an
    invoice: a bank transfer (API) or a payment another system reported (accounting's inbound notification).
    Gateway money is posted from ``payments.events.PaymentMoved`` instead, so it is never posted twice."""

    receipt_id: uuid.UUID
    invoice_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID | None
    source: str
    """bank_transfer or accounting."""
    amount_minor: int
    currency: str
    base_currency: str | None
    base_amount_minor: int | None
    fx_rate: str | None
    received_on: date
    reference: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class InvoiceWrittenOff:
    """Domain event: what remained due on an invoice was written off as uncollectable."""

    invoice_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID | None
    amount_minor: int
    currency: str
    base_currency: str | None
    base_amount_minor: int | None
    fx_rate: str | None
    reason: str
    actor: str
