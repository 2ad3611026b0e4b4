"""Invoice tables: the legal entities that issue documents, their number series, invoices and credit notes with
their lines, and receipts (money in or out for an order) with their allocations to invoices.

Money is integer minor units in the document's currency; ``base_*`` columns hold the conversion to the base
currency at the document's rate (null when no rate was in force). An issued document's content never changes: only
its derived settlement columns (``status``, ``paid_minor``, ``credited_minor``, ``written_off_minor``) move, and a
correction is a credit note.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class LegalEntity(IdMixin, VersionMixin, TimestampMixin, Base):
    """A company that issues invoices (the seller on them); channels name theirs, or use the default one."""

    __tablename__ = "legal_entities"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    vat_id: Mapped[str | None] = mapped_column(String(32), default=None, doc="Validated with python-stdnum")
    registration_id: Mapped[str | None] = mapped_column(String(64), default=None, doc="Company register number")
    address: Mapped[dict[str, Any]] = mapped_column(JSON, doc="line1, line2, city, postal_code, region, country")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    iban: Mapped[str | None] = mapped_column(String(34), default=None, doc="Where bank transfers are paid")
    bic: Mapped[str | None] = mapped_column(String(11), default=None)
    is_default: Mapped[bool] = mapped_column(default=False, doc="Issues for channels that name no entity")


class DocumentSeries(IdMixin, Base):
    """One gap-free numbering series: per legal entity, document type and year. ``next_number`` is taken under the
    row's lock in the issuing transaction, so a rollback gives the number back."""

    __tablename__ = "document_series"
    __table_args__ = (UniqueConstraint("legal_entity_id", "doc_type", "year"),)

    legal_entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_entities.id"))
    doc_type: Mapped[str] = mapped_column(String(16), doc="invoice or credit_note")
    year: Mapped[int]
    prefix: Mapped[str] = mapped_column(String(16), doc="INV, CN…")
    next_number: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invoice(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("series_id", "sequence"),
        Index("ix_invoices_status_due_date", "status", "due_date"),
        Index("ix_invoices_customer_id_id", "customer_id", "id"),
        Index("ix_invoices_order_id", "order_id"),
        Index("ix_invoices_shipment_id", "shipment_id"),
        # The list's filters (GET /v1/invoices), each an index ending in id, the cursor's order (migration 0014).
        Index("ix_invoices_order_id_id", "order_id", "id"),
        Index("ix_invoices_status_id", "status", "id"),
    )

    legal_entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_entities.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("shipments.id"), default=None, doc="The shipment it bills (per-shipment policy)"
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), default=None)
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    status: Mapped[str] = mapped_column(String(16), doc="draft, issued, partially_paid, paid, overdue or credited")
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_series.id"), default=None)
    sequence: Mapped[int | None] = mapped_column(default=None, doc="The number inside its series")
    number: Mapped[str | None] = mapped_column(String(40), default=None, unique=True, doc="Null while a draft")
    issue_date: Mapped[date | None] = mapped_column(default=None)
    due_date: Mapped[date | None] = mapped_column(default=None)
    issued_at: Mapped[datetime | None] = mapped_column(default=None)
    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, doc="Net of the item lines, after discounts")
    shipping_minor: Mapped[int] = mapped_column(BigInteger, doc="Net of the shipping line")
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger, doc="What the customer owes: net + tax")
    tax_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="Per rate: rate, category, taxable_minor, tax_minor"
    )
    base_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    fx_rate: Mapped[str | None] = mapped_column(String(40), default=None, doc="Document currency -> base")
    fx_rate_date: Mapped[date | None] = mapped_column(default=None)
    base_total_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    base_tax_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0, doc="Receipts allocated to it, net of refunds")
    credited_minor: Mapped[int] = mapped_column(BigInteger, default=0, doc="Total of its credit notes")
    written_off_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off_on: Mapped[date | None] = mapped_column(default=None, doc="When what was due was written off")
    seller: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The legal entity as it was at issue")
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON, doc="name, company, vat_id, email, address at issue")
    payment_terms: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None, doc="The customer's terms at issue (null: due on receipt)"
    )
    notes: Mapped[str | None] = mapped_column(Text, default=None)


class InvoiceLine(IdMixin, Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (Index("ix_invoice_lines_invoice_id", "invoice_id"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"))
    line_no: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16), doc="item or shipping")
    order_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("order_lines.id"), default=None)
    sku: Mapped[str | None] = mapped_column(String(64), default=None)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, doc="Net unit price (before tax)")
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    net_minor: Mapped[int] = mapped_column(BigInteger, doc="quantity x unit price - discount")
    tax_rate: Mapped[str] = mapped_column(String(12), doc="Decimal fraction as text, e.g. 0.19")
    tax_category: Mapped[str | None] = mapped_column(String(32), default=None)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger, doc="net + tax")


class CreditNote(IdMixin, TimestampMixin, Base):
    """A correction of an issued invoice: issued at once, with its own gap-free series, never changed."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("series_id", "sequence"),
        Index("ix_credit_notes_invoice_id", "invoice_id"),
        Index("ix_credit_notes_customer_id_id", "customer_id", "id"),
    )

    legal_entity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_entities.id"))
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), default=None)
    series_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_series.id"))
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    issue_date: Mapped[date]
    issued_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tax_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    base_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    fx_rate: Mapped[str | None] = mapped_column(String(40), default=None, doc="The corrected invoice's rate")
    fx_rate_date: Mapped[date | None] = mapped_column(default=None)
    base_total_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    base_tax_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    seller: Mapped[dict[str, Any]] = mapped_column(JSON)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str | None] = mapped_column(String(80), default=None)


class CreditNoteLine(IdMixin, Base):
    __tablename__ = "credit_note_lines"
    __table_args__ = (Index("ix_credit_note_lines_credit_note_id", "credit_note_id"),)

    credit_note_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("credit_notes.id"))
    invoice_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoice_lines.id"), default=None)
    line_no: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16), doc="item, shipping, or amount (a free amount at one rate)")
    sku: Mapped[str | None] = mapped_column(String(64), default=None)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[str] = mapped_column(String(12))
    tax_category: Mapped[str | None] = mapped_column(String(32), default=None)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)


class Receipt(IdMixin, Base):
    """Money that moved for an order, never changed: a payment in (a gateway capture, a bank transfer, a payment
    accounting reported) or a refund out. What is not allocated to an invoice yet waits for the next one."""

    __tablename__ = "receipts"
    __table_args__ = (
        Index("ix_receipts_order_id", "order_id"),
        Index("ix_receipts_customer_id", "customer_id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16), doc="payment or refund")
    source: Mapped[str] = mapped_column(String(16), doc="gateway, bank_transfer or accounting")
    payment_transaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_transactions.id"), default=None, unique=True, doc="The payments ledger entry (gateway)"
    )
    external_id: Mapped[str | None] = mapped_column(
        String(255), default=None, unique=True, doc="Dedupes a payment another system reports (source:id)"
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger, doc="Positive, in the currency")
    currency: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date]
    reference: Mapped[str | None] = mapped_column(String(255), default=None)
    base_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    base_amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    fx_rate: Mapped[str | None] = mapped_column(String(40), default=None)
    actor: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceiptAllocation(IdMixin, Base):
    """How much of a receipt settles which invoice (negative for a refund's share)."""

    __tablename__ = "receipt_allocations"
    __table_args__ = (
        Index("ix_receipt_allocations_receipt_id", "receipt_id"),
        Index("ix_receipt_allocations_invoice_id", "invoice_id"),
    )

    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("receipts.id"))
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
