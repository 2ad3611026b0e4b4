"""Every query of the issuing side of invoices: legal entities, document series, invoices and credit notes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices.domain.credits import Credited
from oms_api.invoices.domain.drafting import Billed, billed_of
from oms_api.invoices.models import (
    CreditNote,
    CreditNoteLine,
    DocumentSeries,
    Invoice,
    InvoiceLine,
    LegalEntity,
)
from oms_api.kit.keyset import filtered_page, plan_for_values
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import id_or_code, insert_ignoring_conflicts

# --- legal entities ------------------------------------------------------------------------------------------------


async def entity_by_ref(session: AsyncSession, ref: str, *, for_update: bool = False) -> LegalEntity | None:
    stmt = select(LegalEntity).where(id_or_code(LegalEntity.id, LegalEntity.code, ref))
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def default_entity(session: AsyncSession) -> LegalEntity | None:
    stmt = select(LegalEntity).where(LegalEntity.is_default.is_(True)).order_by(LegalEntity.id).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def insert_entity(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a legal entity unless its code is taken (False: a duplicate, concurrent or not)."""
    stmt = insert_ignoring_conflicts(session.get_bind().dialect.name, LegalEntity.__table__, "code")
    result = await session.execute(stmt, values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def unset_other_defaults(session: AsyncSession, keep: uuid.UUID) -> list[LegalEntity]:
    """Make every other entity not the default; the ones changed (locked), to record their events."""
    stmt = (
        select(LegalEntity)
        .where(LegalEntity.is_default.is_(True), LegalEntity.id != keep)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    changed = list((await session.execute(stmt)).scalars())
    if changed:
        await session.execute(
            update(LegalEntity)
            .where(LegalEntity.id.in_([e.id for e in changed]))
            .values(is_default=False, version=LegalEntity.version + 1)
            .execution_options(synchronize_session=False)
        )
        for entity in changed:
            await session.refresh(entity)
    return changed


async def list_entities(session: AsyncSession, page: PageParams) -> Slice[LegalEntity]:
    stmt = filtered_page(select(LegalEntity), LegalEntity.id, page.after, [], []).limit(page.limit + 1)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


# --- series --------------------------------------------------------------------------------------------------------


async def take_from_series(
    session: AsyncSession, legal_entity_id: uuid.UUID, doc_type: str, year: int
) -> tuple[uuid.UUID, str, int] | None:
    """Move the series on by one and return (id, prefix, the number taken), or None when it does not exist yet.

    One ``UPDATE … RETURNING``: it takes the row's lock (held until the transaction ends) and the number in the
    same round trip, so the serial part of issuing is as short as it can be."""
    stmt = (
        update(DocumentSeries)
        .where(
            DocumentSeries.legal_entity_id == legal_entity_id,
            DocumentSeries.doc_type == doc_type,
            DocumentSeries.year == year,
        )
        .values(next_number=DocumentSeries.next_number + 1)
        .returning(DocumentSeries.id, DocumentSeries.prefix, DocumentSeries.next_number)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else (row[0], row[1], row[2] - 1)


async def insert_series(session: AsyncSession, values: dict[str, Any]) -> None:
    """Create a series unless a concurrent transaction did (its unique key then wins, and we wait for it)."""
    stmt = insert_ignoring_conflicts(
        session.get_bind().dialect.name, DocumentSeries.__table__, "legal_entity_id", "doc_type", "year"
    )
    await session.execute(stmt, values)


# --- invoices ------------------------------------------------------------------------------------------------------


async def get_invoice(session: AsyncSession, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
    stmt = select(Invoice).where(Invoice.id == invoice_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def invoice_lines(session: AsyncSession, invoice_id: uuid.UUID) -> list[InvoiceLine]:
    stmt = select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.line_no)
    return list((await session.execute(stmt)).scalars())


async def billed_of_order(session: AsyncSession, order_id: uuid.UUID) -> tuple[dict[uuid.UUID, Billed], bool]:
    """What the order's invoices (drafts included) bill per order line, and whether one bills the shipping."""
    stmt = (
        select(
            InvoiceLine.kind,
            InvoiceLine.order_line_id,
            InvoiceLine.quantity,
            InvoiceLine.net_minor,
            InvoiceLine.tax_minor,
            Invoice.prices_include_tax,
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.order_id == order_id)
    )
    billed: dict[uuid.UUID, Billed] = defaultdict(Billed)
    shipping = False
    for kind, line_id, quantity, net, tax, included in await session.execute(stmt):
        if kind == "shipping":
            shipping = True
        elif line_id is not None:
            billed[line_id] = billed[line_id].plus(billed_of(quantity, net, tax, included))
    return dict(billed), shipping


async def invoice_of_shipment(session: AsyncSession, shipment_id: uuid.UUID) -> Invoice | None:
    stmt = select(Invoice).where(Invoice.shipment_id == shipment_id).order_by(Invoice.id).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_invoices(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None,
    customer_id: uuid.UUID | None,
    order_id: uuid.UUID | None,
    due_before: date | None,
) -> Slice[Invoice]:
    """A page of invoices, oldest first: a range of the index of the most selective filter given (an order's
    invoices are few, then a customer's)."""
    stmt = filtered_page(
        select(Invoice),
        Invoice.id,
        page.after,
        [(Invoice.order_id, order_id), (Invoice.customer_id, customer_id), (Invoice.status, status)],
        [(Invoice.order_id,), (Invoice.customer_id,), (Invoice.status,)],
    )
    if due_before is not None:
        await plan_for_values(session)
        stmt = stmt.where(Invoice.due_date < due_before)
    return make_slice(list((await session.execute(stmt.limit(page.limit + 1))).scalars()), page.limit)


# --- credit notes --------------------------------------------------------------------------------------------------


async def get_credit_note(session: AsyncSession, credit_note_id: uuid.UUID) -> CreditNote | None:
    return (await session.execute(select(CreditNote).where(CreditNote.id == credit_note_id))).scalar_one_or_none()


async def credit_note_lines(session: AsyncSession, credit_note_id: uuid.UUID) -> list[CreditNoteLine]:
    stmt = (
        select(CreditNoteLine).where(CreditNoteLine.credit_note_id == credit_note_id).order_by(CreditNoteLine.line_no)
    )
    return list((await session.execute(stmt)).scalars())


async def credit_notes_of(session: AsyncSession, invoice_id: uuid.UUID) -> list[CreditNote]:
    stmt = select(CreditNote).where(CreditNote.invoice_id == invoice_id).order_by(CreditNote.sequence)
    return list((await session.execute(stmt)).scalars())


async def credited_per_line(session: AsyncSession, invoice_id: uuid.UUID) -> dict[uuid.UUID, Credited]:
    stmt = (
        select(
            CreditNoteLine.invoice_line_id,
            func.sum(CreditNoteLine.quantity),
            func.sum(CreditNoteLine.net_minor),
            func.sum(CreditNoteLine.tax_minor),
        )
        .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
        .where(CreditNote.invoice_id == invoice_id, CreditNoteLine.invoice_line_id.is_not(None))
        .group_by(CreditNoteLine.invoice_line_id)
    )
    found: dict[uuid.UUID, Credited] = {}
    for line_id, quantity, net, tax in await session.execute(stmt):
        if line_id is not None:
            found[line_id] = Credited(int(quantity), int(net), int(tax))
    return found


def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)


async def delete_invoice(session: AsyncSession, invoice: Invoice) -> None:
    for line in await invoice_lines(session, invoice.id):
        await session.delete(line)
    await session.flush()
    await session.delete(invoice)
    await session.flush()
