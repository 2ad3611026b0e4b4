"""Reading payments: one, an order's, and lists."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.pagination import PageParams, Slice
from oms_api.orders import service as orders
from oms_api.payments import ledger, repository
from oms_api.payments.schemas import OrderPayments, Payment, PaymentSummary
from oms_api.payments.views import payment_view, summary_view


async def get_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment:
    loaded = await ledger.load(session, payment_id, for_update=False)
    return payment_view(loaded.payment, loaded.entries)


async def order_payments(session: AsyncSession, order_id: uuid.UUID) -> OrderPayments:
    """The order's payments with their ledgers and its payment status (404 ``order_not_found``)."""
    order = await orders.load(session, order_id)
    payments = await ledger.load_order(session, order_id, for_update=False)
    return OrderPayments(
        order_id=order_id,
        payment_status=order.payment_status,
        data=[payment_view(p.payment, p.entries) for p in payments],
    )


async def list_payments(
    session: AsyncSession, page: PageParams, *, status: str | None = None, order_id: uuid.UUID | None = None
) -> Slice[PaymentSummary]:
    rows = await repository.list_payments(session, page, status=status, order_id=order_id)
    entries = await repository.entries_of(session, [p.id for p in rows.items])
    items = [summary_view(p, entries.get(p.id, [])) for p in rows.items]
    return Slice(items=items, has_more=rows.has_more, next_after=rows.next_after)
