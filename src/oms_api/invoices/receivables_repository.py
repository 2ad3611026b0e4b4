"""Queries of receivables: an order's issued invoices and receipts, what is allocated where, open invoices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices.domain.settlement import OPEN_STATUSES
from oms_api.invoices.models import CreditNote, Invoice, Receipt, ReceiptAllocation
from oms_api.orders.models import Order

_OPEN = sorted(OPEN_STATUSES)


async def issued_invoices_of_order(session: AsyncSession, order_id: uuid.UUID, *, lock: bool = True) -> list[Invoice]:
    """The order's numbered invoices, oldest first, row-locked so that two movements of the same order (a capture
    and an issue, say) settle one after the other."""
    stmt = (
        select(Invoice)
        .where(Invoice.order_id == order_id, Invoice.number.is_not(None))
        .order_by(Invoice.issued_at, Invoice.sequence, Invoice.id)
    )
    if lock:
        stmt = stmt.with_for_update()
    return list((await session.execute(stmt)).scalars())


async def receipts_of_order(session: AsyncSession, order_id: uuid.UUID, currency: str) -> list[tuple[Receipt, int]]:
    """The order's receipts in ``currency``, oldest first, each with the sum of its allocations."""
    allocated = (
        select(ReceiptAllocation.receipt_id, func.sum(ReceiptAllocation.amount_minor).label("allocated"))
        .group_by(ReceiptAllocation.receipt_id)
        .subquery()
    )
    stmt = (
        select(Receipt, func.coalesce(allocated.c.allocated, 0))
        .outerjoin(allocated, allocated.c.receipt_id == Receipt.id)
        .where(Receipt.order_id == order_id, Receipt.currency == currency)
        .order_by(Receipt.created_at, Receipt.id)
    )
    return [(receipt, int(total)) for receipt, total in (await session.execute(stmt)).all()]


async def receipt_of_transaction(session: AsyncSession, transaction_id: uuid.UUID) -> Receipt | None:
    stmt = select(Receipt).where(Receipt.payment_transaction_id == transaction_id)
    return (await session.execute(stmt)).scalars().first()


async def receipt_by_external_id(session: AsyncSession, external_id: str) -> Receipt | None:
    stmt = select(Receipt).where(Receipt.external_id == external_id)
    return (await session.execute(stmt)).scalars().first()


async def allocations_of_invoice(
    session: AsyncSession, invoice_id: uuid.UUID
) -> Sequence[tuple[ReceiptAllocation, Receipt]]:
    """The invoice's allocations with their receipts, in the order they were made."""
    stmt = (
        select(ReceiptAllocation, Receipt)
        .join(Receipt, Receipt.id == ReceiptAllocation.receipt_id)
        .where(ReceiptAllocation.invoice_id == invoice_id)
        .order_by(ReceiptAllocation.created_at, ReceiptAllocation.id)
    )
    return [(a, r) for a, r in (await session.execute(stmt)).all()]


async def get_invoice(session: AsyncSession, invoice_id: uuid.UUID, *, lock: bool = False) -> Invoice | None:
    stmt = select(Invoice).where(Invoice.id == invoice_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().first()


async def order_customer(session: AsyncSession, order_id: uuid.UUID) -> uuid.UUID | None:
    """The customer of an order (orders' table, read as a read model)."""
    return (await session.execute(select(Order.customer_id).where(Order.id == order_id))).scalar_one_or_none()


async def open_invoices_of_customer(session: AsyncSession, customer_id: uuid.UUID) -> list[Invoice]:
    stmt = select(Invoice).where(Invoice.customer_id == customer_id, Invoice.status.in_(_OPEN))
    return list((await session.execute(stmt)).scalars())


async def overdue_candidates(session: AsyncSession, today: date, limit: int) -> list[Invoice]:
    """Invoices still ``issued`` or ``partially_paid`` whose due date has passed, locked and skipped when another
    worker holds them (the ``ix_invoices_status_due_date`` index serves it)."""
    stmt = (
        select(Invoice)
        .where(Invoice.status.in_(("issued", "partially_paid")), Invoice.due_date < today)
        .order_by(Invoice.due_date, Invoice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def invoiced_per_order(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The totals of the orders' issued invoices, by order (drafts do not count: they are not owed yet)."""
    if not order_ids:
        return {}
    stmt = (
        select(Invoice.order_id, func.sum(Invoice.total_minor))
        .where(Invoice.order_id.in_(order_ids), Invoice.number.is_not(None))
        .group_by(Invoice.order_id)
    )
    return {order_id: int(total) for order_id, total in (await session.execute(stmt)).all()}


async def outstanding_as_of(session: AsyncSession, as_of: date, *, open_only: bool) -> list[tuple[Invoice, int]]:
    """Issued invoices with something due on ``as_of``, and how much: the total less receipts received by then,
    credit notes issued by then and a write-off made by then. ``open_only`` (a report as of today or later: nothing
    can have happened after it) reads only invoices whose status is open."""
    paid = (
        select(func.coalesce(func.sum(ReceiptAllocation.amount_minor), 0))
        .join(Receipt, Receipt.id == ReceiptAllocation.receipt_id)
        .where(ReceiptAllocation.invoice_id == Invoice.id, Receipt.received_on <= as_of)
        .scalar_subquery()
    )
    credited = (
        select(func.coalesce(func.sum(CreditNote.total_minor), 0))
        .where(CreditNote.invoice_id == Invoice.id, CreditNote.issue_date <= as_of)
        .scalar_subquery()
    )
    written_off = case((Invoice.written_off_on <= as_of, Invoice.written_off_minor), else_=0)
    due = Invoice.total_minor - paid - credited - written_off
    stmt = select(Invoice, due).where(Invoice.number.is_not(None), Invoice.issue_date <= as_of, due > 0)
    if open_only:
        stmt = stmt.where(Invoice.status.in_(_OPEN))
    stmt = stmt.order_by(Invoice.customer_id, Invoice.id)
    return [(invoice, int(amount)) for invoice, amount in (await session.execute(stmt)).all()]
