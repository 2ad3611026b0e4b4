"""Reading orders: one with its lines and allocations, lists with filters, and its history."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.kit.errors import NotFound
from oms_api.kit.outbox import Event
from oms_api.kit.pagination import PageParams, Slice
from oms_api.orders import repository
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.schemas import Order
from oms_api.orders.views import order_view
from oms_api.stock import service as stock


async def load(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> OrderRow:
    order = await repository.get(session, order_id, for_update=for_update)
    if order is None:
        raise NotFound(f"No order {order_id}", code="order_not_found")
    return order


async def view_of(session: AsyncSession, order: OrderRow) -> Order:
    lines = await repository.lines_of(session, order.id)
    allocations = await stock.allocations_for(session, [order.id])
    channel = await channels.get_channel(session, str(order.channel_id))
    return order_view(order, lines, allocations, channel.code)


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    return await view_of(session, await load(session, order_id))


async def list_orders(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None = None,
    payment_status: str | None = None,
    channel: str | None = None,
    customer_id: uuid.UUID | None = None,
    tag: str | None = None,
    external_ref: str | None = None,
    placed_after: datetime | None = None,
    placed_before: datetime | None = None,
) -> Slice[OrderRow]:
    channel_id = None
    if channel:
        try:
            channel_id = (await channels.get_channel(session, channel)).id
        except NotFound:  # filtering by a channel that does not exist finds nothing, as other filters do
            return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_orders(
        session,
        page,
        status=status,
        payment_status=payment_status,
        channel_id=channel_id,
        customer_id=customer_id,
        tag=tag,
        external_ref=external_ref,
        placed_after=placed_after,
        placed_before=placed_before,
    )


async def history(session: AsyncSession, order_id: uuid.UUID) -> list[Event]:
    await load(session, order_id)
    return await repository.events_of(session, order_id)


OPEN_FOR_CREDIT = ("cancelled", "completed")


async def open_orders_of(session: AsyncSession, customer_id: uuid.UUID) -> list[tuple[uuid.UUID, str, int]]:
    """The customer's orders still running (neither cancelled nor completed) as ``(order id, currency, amount)``,
    the amount being the grand total less the value of units cancelled after part of it shipped (what credit
    control counts as exposure until it is invoiced)."""
    rows = await repository.open_order_amounts(session, customer_id, OPEN_FOR_CREDIT)
    return [(order_id, currency, total - cancelled) for order_id, currency, total, cancelled in rows]
