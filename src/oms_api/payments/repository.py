"""Every query of payments, and one named read model of orders (``order_amounts``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.keyset import filtered_page
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import insert_ignoring_conflicts
from oms_api.orders.models import Order, OrderLine
from oms_api.payments.models import GatewayEventRow, Payment, PaymentTransaction


async def get(session: AsyncSession, payment_id: uuid.UUID, *, for_update: bool = False) -> Payment | None:
    """One payment; ``for_update`` locks it and reads it afresh (what may be captured or refunded is computed
    under this lock, so concurrent operations on one payment take turns)."""
    stmt = select(Payment).where(Payment.id == payment_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def of_order(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> list[Payment]:
    """The order's payments, oldest first (locked in id order with ``for_update``)."""
    stmt = select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return list((await session.execute(stmt)).scalars())


async def by_reference(
    session: AsyncSession, gateways: Sequence[str], reference: str, *, for_update: bool = False
) -> Payment | None:
    stmt = select(Payment).where(Payment.gateway.in_(list(gateways)), Payment.gateway_reference == reference)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt.order_by(Payment.id).limit(1))).scalar_one_or_none()


async def entries_of(
    session: AsyncSession, payment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PaymentTransaction]]:
    """Each payment's ledger, oldest entry first (entries never change: identity-mapped rows are current)."""
    found: dict[uuid.UUID, list[PaymentTransaction]] = defaultdict(list)
    if not payment_ids:
        return found
    stmt = (
        select(PaymentTransaction)
        .where(PaymentTransaction.payment_id.in_(list(payment_ids)))
        .order_by(PaymentTransaction.payment_id, PaymentTransaction.id)
    )
    for row in (await session.execute(stmt)).scalars():
        found[row.payment_id].append(row)
    return found


def add(session: AsyncSession, *rows: Payment | PaymentTransaction) -> None:
    session.add_all(rows)


async def list_payments(
    session: AsyncSession, page: PageParams, *, status: str | None, order_id: uuid.UUID | None
) -> Slice[Payment]:
    """A page of payments, oldest first: a range of the index of the most selective filter given (an order's
    payments are few, so the order leads)."""
    stmt = filtered_page(
        select(Payment),
        Payment.id,
        page.after,
        [(Payment.order_id, order_id), (Payment.status, status)],
        [(Payment.order_id,), (Payment.status,)],
    ).limit(page.limit + 1)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def pending_ids(session: AsyncSession, before: datetime, limit: int) -> list[uuid.UUID]:
    """Payments with an operation in doubt since before ``before``, the longest waiting first (not locked: the
    caller locks each after its order, in the order every writer locks)."""
    stmt = (
        select(Payment.id)
        .where(Payment.pending_since.is_not(None), Payment.pending_since <= before)
        .order_by(Payment.pending_since, Payment.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


# --- the order's money: a named read model of orders' tables ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderLineAmounts:
    id: uuid.UUID
    quantity: int
    cancelled_quantity: int
    total_minor: int


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    """What payments need of an order to know what it owes: its currency, grand total and lines."""

    id: uuid.UUID
    channel_id: uuid.UUID
    status: str
    currency: str
    grand_total_minor: int
    lines: tuple[OrderLineAmounts, ...]


async def order_amounts(session: AsyncSession, order_id: uuid.UUID) -> OrderAmounts | None:
    """Read model of the ``orders`` and ``order_lines`` tables (owned by orders; read only, one query)."""
    stmt = (
        select(
            Order.channel_id,
            Order.status,
            Order.currency,
            Order.grand_total_minor,
            OrderLine.id,
            OrderLine.quantity,
            OrderLine.cancelled_quantity,
            OrderLine.total_minor,
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.id == order_id)
        .order_by(OrderLine.line_no)
    )
    rows = list(await session.execute(stmt))
    if not rows:
        return None
    first = rows[0]
    return OrderAmounts(
        order_id,
        first[0],
        first[1],
        first[2],
        first[3],
        tuple(OrderLineAmounts(r[4], r[5], r[6], r[7]) for r in rows),
    )


# --- gateway events ------------------------------------------------------------------------------------------


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a webhook event unless its (gateway, event id) is stored already; False for a duplicate."""
    stmt = insert_ignoring_conflicts(session.get_bind().dialect.name, GatewayEventRow.__table__, "gateway", "event_id")
    result = await session.execute(stmt, values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def event_by_id(
    session: AsyncSession, gateway: str, event_id: str, *, for_update: bool = False
) -> GatewayEventRow | None:
    stmt = select(GatewayEventRow).where(GatewayEventRow.gateway == gateway, GatewayEventRow.event_id == event_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()
