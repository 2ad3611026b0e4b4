"""Invoices and credit notes as the API shows them, as events carry them, and as ``Document`` (what renderers and
accounting read): built from rows, never from other contexts' tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.customers.domain import PaymentTerms
from oms_api.invoices import repository
from oms_api.invoices.domain import document as doc
from oms_api.invoices.models import CreditNote as CreditNoteRow
from oms_api.invoices.models import CreditNoteLine as CreditNoteLineRow
from oms_api.invoices.models import Invoice as InvoiceRow
from oms_api.invoices.models import InvoiceLine as InvoiceLineRow
from oms_api.invoices.schemas import (
    BaseTotals,
    CreditNote,
    CreditNoteEventData,
    CreditNoteLine,
    Invoice,
    InvoiceEventData,
    InvoiceLine,
    InvoiceSummary,
    Party,
    PartyAddress,
    TaxGroup,
)
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.money import Money as Amount
from oms_api.kit.schemas import Money


def _money(minor: int, currency: str) -> Money:
    return Money.of(Amount.from_minor(minor, currency))


def amount_due_minor(invoice: InvoiceRow) -> int:
    return invoice.total_minor - invoice.paid_minor - invoice.credited_minor - invoice.written_off_minor


def _summary_fields(invoice: InvoiceRow) -> dict[str, Any]:
    cur = invoice.currency
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status,
        "order_id": invoice.order_id,
        "shipment_id": invoice.shipment_id,
        "customer_id": invoice.customer_id,
        "channel_id": invoice.channel_id,
        "legal_entity_id": invoice.legal_entity_id,
        "currency": cur,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "issued_at": invoice.issued_at,
        "subtotal": _money(invoice.subtotal_minor, cur),
        "shipping": _money(invoice.shipping_minor, cur),
        "tax": _money(invoice.tax_minor, cur),
        "total": _money(invoice.total_minor, cur),
        "paid": _money(invoice.paid_minor, cur),
        "credited": _money(invoice.credited_minor, cur),
        "written_off": _money(invoice.written_off_minor, cur),
        "amount_due": _money(amount_due_minor(invoice), cur),
        "version": invoice.version,
        "created_at": invoice.created_at,
        "updated_at": invoice.updated_at,
    }


def _party(snapshot: dict[str, Any]) -> Party:
    fields = {k: snapshot.get(k) for k in ("company", "vat_id", "registration_id", "email", "iban", "bic")}
    return Party(name=snapshot.get("name") or "", address=PartyAddress(**(snapshot.get("address") or {})), **fields)


def _groups(breakdown: Sequence[dict[str, Any]], currency: str) -> list[TaxGroup]:
    return [
        TaxGroup(
            rate=g["rate"],
            category=g.get("category"),
            taxable=_money(g["taxable_minor"], currency),
            tax=_money(g["tax_minor"], currency),
        )
        for g in breakdown
    ]


def _base(row: InvoiceRow | CreditNoteRow) -> BaseTotals | None:
    if row.base_currency is None or row.fx_rate is None or row.fx_rate_date is None or row.base_total_minor is None:
        return None
    return BaseTotals(
        fx_rate=row.fx_rate,
        fx_rate_date=row.fx_rate_date,
        total=_money(row.base_total_minor, row.base_currency),
        tax=_money(row.base_tax_minor or 0, row.base_currency),
    )


def summary_view(invoice: InvoiceRow) -> InvoiceSummary:
    return InvoiceSummary(**_summary_fields(invoice))


def line_view(line: InvoiceLineRow, currency: str) -> InvoiceLine:
    return InvoiceLine(
        id=line.id,
        line_no=line.line_no,
        kind=line.kind,
        order_line_id=line.order_line_id,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        unit_price=_money(line.unit_price_minor, currency),
        discount=_money(line.discount_minor, currency),
        net=_money(line.net_minor, currency),
        tax_rate=line.tax_rate,
        tax_category=line.tax_category,
        tax=_money(line.tax_minor, currency),
        total=_money(line.total_minor, currency),
    )


def invoice_view(invoice: InvoiceRow, lines: Sequence[InvoiceLineRow]) -> Invoice:
    return Invoice(
        **_summary_fields(invoice),
        prices_include_tax=invoice.prices_include_tax,
        lines=[line_view(line, invoice.currency) for line in lines],
        tax_breakdown=_groups(invoice.tax_breakdown or [], invoice.currency),
        base_currency=invoice.base_currency,
        base=_base(invoice),
        seller=_party(invoice.seller) if invoice.seller else None,
        buyer=_party(invoice.buyer),
        payment_terms=invoice.payment_terms,
        notes=invoice.notes,
    )


invoice_view_of = invoice_view
"""The API's view of an invoice whose lines the caller has (``invoice_view``)."""


def invoice_event_data(invoice: InvoiceRow) -> dict[str, Any]:
    """The payload of every ``invoice.*`` event (b2b's status events use it too): the invoice's summary."""
    return InvoiceEventData(**_summary_fields(invoice), number_sequence=invoice.sequence).model_dump(mode="json")


def _credit_summary(note: CreditNoteRow) -> dict[str, Any]:
    cur = note.currency
    return {
        "id": note.id,
        "number": note.number,
        "invoice_id": note.invoice_id,
        "order_id": note.order_id,
        "customer_id": note.customer_id,
        "issue_date": note.issue_date,
        "issued_at": note.issued_at,
        "reason": note.reason,
        "currency": cur,
        "subtotal": _money(note.subtotal_minor, cur),
        "shipping": _money(note.shipping_minor, cur),
        "tax": _money(note.tax_minor, cur),
        "total": _money(note.total_minor, cur),
        "created_at": note.created_at,
    }


def credit_note_view(note: CreditNoteRow, lines: Sequence[CreditNoteLineRow], invoice_number: str | None) -> CreditNote:
    cur = note.currency
    return CreditNote(
        **_credit_summary(note),
        invoice_number=invoice_number,
        lines=[
            CreditNoteLine(
                id=line.id,
                line_no=line.line_no,
                kind=line.kind,
                invoice_line_id=line.invoice_line_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=_money(line.unit_price_minor, cur),
                net=_money(line.net_minor, cur),
                tax_rate=line.tax_rate,
                tax_category=line.tax_category,
                tax=_money(line.tax_minor, cur),
                total=_money(line.total_minor, cur),
            )
            for line in lines
        ],
        tax_breakdown=_groups(note.tax_breakdown or [], cur),
        base_currency=note.base_currency,
        base=_base(note),
        seller=_party(note.seller),
        buyer=_party(note.buyer),
        actor=note.actor,
    )


def credit_note_event_data(note: CreditNoteRow, invoice_number: str | None) -> dict[str, Any]:
    return CreditNoteEventData(**_credit_summary(note), invoice_number=invoice_number).model_dump(mode="json")


# --- Document: the issued document as renderers and accounting see it --------------------------------------------


def _doc_address(data: dict[str, Any] | None) -> doc.Address:
    data = data or {}
    return doc.Address(**{k: data.get(k) for k in ("line1", "line2", "city", "postal_code", "region", "country")})


def _doc_party(snapshot: dict[str, Any]) -> doc.Party:
    return doc.Party(
        name=snapshot.get("name") or "",
        company=snapshot.get("company"),
        vat_id=snapshot.get("vat_id"),
        registration_id=snapshot.get("registration_id"),
        email=snapshot.get("email"),
        address=_doc_address(snapshot.get("address")),
        iban=snapshot.get("iban"),
        bic=snapshot.get("bic"),
    )


def _doc_groups(breakdown: Sequence[dict[str, Any]], currency: str) -> tuple[doc.TaxGroup, ...]:
    return tuple(
        doc.TaxGroup(
            Decimal(g["rate"]),
            g.get("category"),
            Amount.from_minor(g["taxable_minor"], currency),
            Amount.from_minor(g["tax_minor"], currency),
        )
        for g in breakdown
    )


def _doc_base(row: InvoiceRow | CreditNoteRow) -> doc.BaseTotals | None:
    """Base totals, when a rate was in force and the base currency differs from the document's."""
    if row.base_currency is None or row.base_currency == row.currency or row.base_total_minor is None:
        return None
    if row.fx_rate is None or row.fx_rate_date is None:
        return None
    total = Amount.from_minor(row.base_total_minor, row.base_currency)
    tax = Amount.from_minor(row.base_tax_minor or 0, row.base_currency)
    return doc.BaseTotals(row.base_currency, Decimal(row.fx_rate), row.fx_rate_date, total - tax, tax, total)


def _terms(invoice: InvoiceRow) -> doc.Terms | None:
    if not invoice.payment_terms or invoice.issue_date is None:
        return None
    terms = PaymentTerms.from_json(invoice.payment_terms)
    return doc.Terms(terms.describe(), terms.discount_percent, terms.discount_until(invoice.issue_date))


def document_from_invoice(invoice: InvoiceRow, lines: Sequence[InvoiceLineRow]) -> doc.Document:
    """An issued invoice as a ``Document`` (409 ``invoice_draft`` for a draft: it has no number)."""
    if invoice.number is None or invoice.issue_date is None:
        raise Conflict("A draft invoice has no number: issue it first", code="invoice_draft")
    cur = invoice.currency

    def m(minor: int) -> Amount:
        return Amount.from_minor(minor, cur)

    shipping_to = invoice.buyer.get("shipping_address")
    return doc.Document(
        kind=doc.DocumentKind.INVOICE,
        number=invoice.number,
        issue_date=invoice.issue_date,
        currency=cur,
        seller=_doc_party(invoice.seller),
        buyer=_doc_party(invoice.buyer),
        lines=tuple(
            doc.DocumentLine(
                line_no=line.line_no,
                kind=doc.LineKind(line.kind),
                name=line.name,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=m(line.unit_price_minor),
                discount=m(line.discount_minor),
                net=m(line.net_minor),
                tax_rate=Decimal(line.tax_rate),
                tax_category=line.tax_category,
                tax=m(line.tax_minor),
                total=m(line.total_minor),
            )
            for line in lines
        ),
        tax_groups=_doc_groups(invoice.tax_breakdown or [], cur),
        net_total=m(invoice.subtotal_minor + invoice.shipping_minor),
        tax_total=m(invoice.tax_minor),
        grand_total=m(invoice.total_minor),
        paid=m(invoice.paid_minor),
        due_date=invoice.due_date,
        terms=_terms(invoice),
        base=_doc_base(invoice),
        order_ref=invoice.buyer.get("order_ref"),
        shipping_address=_doc_address(shipping_to) if shipping_to else None,
        note=invoice.notes,
    )


def document_from_credit_note(
    note: CreditNoteRow, lines: Sequence[CreditNoteLineRow], invoice: InvoiceRow
) -> doc.Document:
    cur = note.currency

    def m(minor: int) -> Amount:
        return Amount.from_minor(minor, cur)

    corrects = None
    if invoice.number is not None and invoice.issue_date is not None:
        corrects = doc.Corrected(invoice.number, invoice.issue_date)
    return doc.Document(
        kind=doc.DocumentKind.CREDIT_NOTE,
        number=note.number,
        issue_date=note.issue_date,
        currency=cur,
        seller=_doc_party(note.seller),
        buyer=_doc_party(note.buyer),
        lines=tuple(
            doc.DocumentLine(
                line_no=line.line_no,
                kind=doc.LineKind(line.kind),
                name=line.name,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=m(line.unit_price_minor),
                discount=m(line.unit_price_minor * line.quantity - line.net_minor),
                net=m(line.net_minor),
                tax_rate=Decimal(line.tax_rate),
                tax_category=line.tax_category,
                tax=m(line.tax_minor),
                total=m(line.total_minor),
            )
            for line in lines
        ),
        tax_groups=_doc_groups(note.tax_breakdown or [], cur),
        net_total=m(note.subtotal_minor + note.shipping_minor),
        tax_total=m(note.tax_minor),
        grand_total=m(note.total_minor),
        paid=m(0),
        base=_doc_base(note),
        corrects=corrects,
        order_ref=invoice.buyer.get("order_ref"),
        reason=note.reason,
    )


async def load_invoice(session: AsyncSession, invoice_id: uuid.UUID, *, for_update: bool = False) -> InvoiceRow:
    invoice = await repository.get_invoice(session, invoice_id, for_update=for_update)
    if invoice is None:
        raise NotFound(f"No invoice {invoice_id}", code="invoice_not_found")
    return invoice


async def load_credit_note(session: AsyncSession, credit_note_id: uuid.UUID) -> CreditNoteRow:
    note = await repository.get_credit_note(session, credit_note_id)
    if note is None:
        raise NotFound(f"No credit note {credit_note_id}", code="credit_note_not_found")
    return note


async def document_of_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> doc.Document:
    """The issued invoice as a ``Document`` (404 ``invoice_not_found``, 409 ``invoice_draft``)."""
    invoice = await load_invoice(session, invoice_id)
    return document_from_invoice(invoice, await repository.invoice_lines(session, invoice.id))


async def document_of_credit_note(session: AsyncSession, credit_note_id: uuid.UUID) -> doc.Document:
    note = await load_credit_note(session, credit_note_id)
    invoice = await load_invoice(session, note.invoice_id)
    return document_from_credit_note(note, await repository.credit_note_lines(session, note.id), invoice)
