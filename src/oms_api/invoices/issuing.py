"""Drafting and issuing invoices: an order's units not billed yet (or a shipment's), at the order's prices
(``domain.drafting``), then a number from the legal entity's gap-free series (``numbering``).

A draft has no number and no issue date; issuing assigns both, takes the seller, the buyer's terms and the rate of
the day, and from then on the invoice's content never changes. The order is row-locked while a draft is made, so
two invoices can never bill the same units. Drafts count as billed: deleting one gives its units back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.customers import service as customers
from oms_api.fulfillment import domain as fulfilment_rules
from oms_api.fulfillment import service as fulfilment
from oms_api.fx import domain as fx_rules
from oms_api.fx import service as fx
from oms_api.invoices import legal_entities, numbering, repository, views
from oms_api.invoices.domain import drafting
from oms_api.invoices.domain.numbers import DocType
from oms_api.invoices.events import DocumentIssued
from oms_api.invoices.models import Invoice, InvoiceLine, LegalEntity
from oms_api.kit import bus, outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, OmsError, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.orders import service as orders
from oms_api.settings import Settings, get_settings

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.orders.schemas import Order

SETTINGS_KEY = "oms_settings"
"""Where an entry point leaves its settings on the session (the same key payments' handlers read)."""


def settings_of(session: AsyncSession) -> Settings:
    given = session.info.get(SETTINGS_KEY)
    return given if isinstance(given, Settings) else get_settings()


def today() -> date:
    return utcnow().date()


def order_facts(order: Order) -> drafting.OrderFacts:
    """An order as invoicing reads it (from orders' public view)."""
    shipping_rate = next((e.rate for e in order.totals.tax_breakdown if e.category == drafting.SHIPPING_CATEGORY), None)
    return drafting.OrderFacts(
        currency=order.currency,
        prices_include_tax=order.prices_include_tax,
        lines=tuple(
            drafting.OrderLineFacts(
                id=line.id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                cancelled=line.cancelled_quantity,
                unit_price_minor=line.unit_price.to_money().minor,
                discount_minor=line.discount.to_money().minor,
                tax_minor=line.tax.to_money().minor,
                tax_rate=line.tax_rate or None,
                tax_category=line.tax_category,
            )
            for line in order.lines
        ),
        shipping_minor=order.totals.shipping_total.to_money().minor,
        shipping_tax_minor=order.totals.shipping_tax.to_money().minor,
        shipping_tax_rate=shipping_rate,
    )


async def shipment_units(session: AsyncSession, order_id: uuid.UUID, shipment_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """The units a shipment of the order shipped (409 ``shipment_not_shipped`` before it left)."""
    try:
        shipment = await fulfilment.get_shipment(session, shipment_id)
    except NotFound as exc:
        raise field_error("/body/shipment_id", f"no shipment {shipment_id}", "unknown_shipment") from exc
    if shipment.order_id != order_id:
        raise field_error("/body/shipment_id", "the shipment is not this order's", "unknown_shipment")
    if shipment.status not in fulfilment_rules.DISPATCHED:
        raise Conflict("The shipment has not shipped: nothing of it is billed yet", code="shipment_not_shipped")
    units: dict[uuid.UUID, int] = {}
    for line in shipment.lines:
        units[line.order_line_id] = units.get(line.order_line_id, 0) + line.quantity - line.short_quantity
    return units


def _address(data: Any) -> dict[str, Any]:
    if data is None:
        return {}
    raw = data.model_dump(mode="json", exclude_none=True)
    return {k: raw[k] for k in ("line1", "line2", "city", "postal_code", "region", "country") if k in raw}


async def buyer_snapshot(session: AsyncSession, order: Order) -> dict[str, Any]:
    """The buyer as printed: the customer's name, company, VAT id and e-mail, at the order's billing address
    (else its shipping address); without a customer, the name on the address."""
    billing = await customers.billing_of(session, order.customer_id) if order.customer_id else None
    address = order.billing_address or order.shipping_address
    return {
        "name": (billing.name if billing else None) or (address.name if address else None) or "",
        "company": (billing.company if billing else None) or (address.company if address else None),
        "vat_id": billing.vat_id if billing else None,
        "email": billing.email if billing else None,
        "address": _address(address),
        "shipping_address": _address(order.shipping_address) or None,
        "order_ref": order.external_ref,
    }


@dataclass(frozen=True, slots=True)
class Drafted:
    invoice: Invoice
    lines: list[InvoiceLine]


async def draft_invoice(
    session: AsyncSession,
    actor: str,
    order_id: uuid.UUID,
    *,
    shipment_id: uuid.UUID | None = None,
    shipped: dict[uuid.UUID, int] | None = None,
    record: bool = True,
) -> Drafted:
    """A draft invoice of the order's units not billed yet (or the shipment's: ``shipped``, else read from it).

    409 ``nothing_to_invoice``, ``shipment_invoiced``, ``legal_entity_missing``; 404 ``order_not_found``."""
    order_row = await orders.lock_order(session, order_id)
    order = await orders.view_of(session, order_row)
    if order.status == "cancelled":
        raise Conflict("The order is cancelled: there is nothing to invoice", code="nothing_to_invoice")
    if shipment_id is not None:
        if await repository.invoice_of_shipment(session, shipment_id) is not None:
            raise Conflict("This shipment is invoiced already", code="shipment_invoiced")
        if shipped is None:
            shipped = await shipment_units(session, order_id, shipment_id)
    facts = order_facts(order)
    billed, shipping_billed = await repository.billed_of_order(session, order_id)
    units = shipped if shipped is not None else drafting.remaining(facts, billed)
    try:
        draft = drafting.draft(facts, units, billed, with_shipping=not shipping_billed)
    except drafting.NothingToInvoice as exc:
        raise Conflict("Everything of this order is invoiced already", code="nothing_to_invoice") from exc
    channel = await channels.channel_by_id(session, order.channel_id)
    entity = await legal_entities.issuing_entity(session, channel.legal_entity)
    invoice = Invoice(
        id=uuid7(),
        version=1,
        legal_entity_id=entity.id,
        order_id=order.id,
        shipment_id=shipment_id,
        customer_id=order.customer_id,
        channel_id=order.channel_id,
        status="draft",
        currency=order.currency,
        prices_include_tax=order.prices_include_tax,
        subtotal_minor=draft.subtotal_minor,
        shipping_minor=draft.shipping_minor,
        tax_minor=draft.tax_minor,
        total_minor=draft.total_minor,
        tax_breakdown=[g.to_json() for g in draft.breakdown],
        seller=legal_entities.seller_snapshot(entity),
        buyer=await buyer_snapshot(session, order),
        paid_minor=0,
        credited_minor=0,
        written_off_minor=0,
    )
    lines = [
        InvoiceLine(
            invoice_id=invoice.id,
            line_no=no,
            kind=line.kind,
            order_line_id=line.order_line_id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
            discount_minor=line.discount_minor,
            net_minor=line.net_minor,
            tax_rate=line.tax_rate,
            tax_category=line.tax_category,
            tax_minor=line.tax_minor,
            total_minor=line.total_minor,
        )
        for no, line in enumerate(draft.lines, start=1)
    ]
    repository.add(session, invoice)
    await session.flush()
    repository.add(session, *lines)
    await session.flush()
    if record:
        outbox.record(session, "invoice.drafted", "invoice", invoice.id, views.invoice_event_data(invoice), actor=actor)
    return Drafted(invoice, lines)


async def _base_totals(session: AsyncSession, invoice: Invoice, base: str, on: date) -> None:
    """The base-currency totals at the rate in force on ``on``; none in force leaves them null (never a guess)."""
    try:
        rate = await fx.rate_on(session, invoice.currency, base, on)
    except OmsError:  # fx_rate_missing
        return
    invoice.base_currency = base
    invoice.fx_rate = str(rate.rate)
    invoice.fx_rate_date = rate.rate_date
    cur = invoice.currency
    invoice.base_total_minor = fx_rules.convert(Money.from_minor(invoice.total_minor, cur), rate.rate, base).minor
    invoice.base_tax_minor = fx_rules.convert(Money.from_minor(invoice.tax_minor, cur), rate.rate, base).minor


async def issue(session: AsyncSession, actor: str, invoice: Invoice, lines: list[InvoiceLine] | None = None) -> Invoice:
    """Issue a draft (locked by the caller): number, issue and due dates, seller, terms and base totals; then the
    order's waiting receipts are applied, ``DocumentIssued`` published and ``invoice.issued`` recorded."""
    if invoice.status != "draft":
        raise Conflict(f"Invoice {invoice.number} is issued already", code="invoice_issued")
    on = today()
    entity = await session.get(LegalEntity, invoice.legal_entity_id)
    if entity is None:  # pragma: no cover - a foreign key keeps it
        raise RuntimeError("the invoice's legal entity is gone")
    billing = await customers.billing_of(session, invoice.customer_id) if invoice.customer_id else None
    terms = billing.terms if billing else None
    await _base_totals(session, invoice, settings_of(session).base_currency, on)
    taken = await numbering.take_number(session, entity.id, DocType.INVOICE, on.year)
    invoice.series_id, invoice.sequence, invoice.number = taken.series_id, taken.sequence, taken.number
    invoice.status = "issued"
    invoice.issue_date, invoice.issued_at = on, utcnow()
    invoice.due_date = terms.due_date(on) if terms else on
    invoice.payment_terms = terms.to_json() if terms else None
    invoice.seller = legal_entities.seller_snapshot(entity)
    invoice.version += 1
    await session.flush()
    outbox.record(session, "invoice.issued", "invoice", invoice.id, views.invoice_event_data(invoice), actor=actor)
    await _settle(session, invoice, actor, on)  # a prepaid order's invoice is paid at once: issued, then paid
    if lines is None:
        lines = await repository.invoice_lines(session, invoice.id)
    document = views.document_from_invoice(invoice, lines)
    await bus.publish(
        session, DocumentIssued(invoice.id, invoice.id, invoice.order_id, invoice.customer_id, document, actor)
    )
    return invoice


async def _settle(session: AsyncSession, invoice: Invoice, actor: str, on: date) -> None:
    """Apply the order's receipts that wait for an invoice (b2b's receivables), then derive the status."""
    from oms_api.invoices import receivables

    await receivables.apply_unallocated(session, invoice, actor)
    receivables.refresh_status(invoice, on)
    await session.flush()


async def issue_for_order(
    session: AsyncSession,
    actor: Principal,
    order_id: uuid.UUID,
    *,
    shipment_id: uuid.UUID | None = None,
    shipped: dict[uuid.UUID, int] | None = None,
) -> Invoice:
    """Invoice the order's units not billed yet (or a shipment's: ``shipped`` as ``ShipmentShipped`` tells them,
    else read from the shipment) and issue it at once."""
    return (await invoice_order(session, actor, order_id, shipment_id=shipment_id, shipped=shipped)).invoice


async def invoice_order(
    session: AsyncSession,
    actor: Principal,
    order_id: uuid.UUID,
    *,
    shipment_id: uuid.UUID | None = None,
    shipped: dict[uuid.UUID, int] | None = None,
) -> Drafted:
    """``issue_for_order``, with the invoice's lines (the API answers with them without reading them again)."""
    drafted = await draft_invoice(
        session, actor.actor, order_id, shipment_id=shipment_id, shipped=shipped, record=False
    )
    await issue(session, actor.actor, drafted.invoice, drafted.lines)
    return drafted


async def issue_draft(session: AsyncSession, actor: Principal, invoice_id: uuid.UUID) -> Invoice:
    """``POST /v1/invoices/{id}/issue`` (409 ``invoice_issued`` for one issued already)."""
    invoice = await views.load_invoice(session, invoice_id, for_update=True)
    return await issue(session, actor.actor, invoice)


async def delete_draft(session: AsyncSession, actor: Principal, invoice_id: uuid.UUID) -> None:
    """Delete a draft (its units become billable again); an issued invoice is corrected by a credit note."""
    invoice = await views.load_invoice(session, invoice_id, for_update=True)
    if invoice.status != "draft":
        raise Conflict("An issued invoice is never deleted: correct it with a credit note", code="invoice_issued")
    data = views.invoice_event_data(invoice)
    await repository.delete_invoice(session, invoice)
    outbox.record(session, "invoice.deleted", "invoice", invoice_id, data, actor=actor.actor)
