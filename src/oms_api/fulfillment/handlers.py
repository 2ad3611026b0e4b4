"""How fulfilment reacts to other contexts' changes (subscribed on the event bus by ``oms_api.bootstrap``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment import shipments
from oms_api.orders.events import OrderCancelled


async def on_order_cancelled(session: AsyncSession, event: OrderCancelled) -> None:
    """An order was cancelled (its stock already given back): its shipments that have not left end too."""
    await shipments.cancel_open_shipments(session, event.actor, event.order_id, event.reason)
