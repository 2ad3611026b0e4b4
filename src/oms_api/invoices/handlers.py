"""How invoices react to other contexts' changes (subscribed on the event bus by ``oms_api.bootstrap``)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.fulfillment.events import ShipmentShipped
from oms_api.invoices import issuing
from oms_api.kit.errors import Conflict
from oms_api.orders import service as orders
from oms_api.orders.schemas import Order

_SHIPPED = frozenset({"shipped", "delivered", "completed"})
_NOTHING_NEW = frozenset({"nothing_to_invoice", "shipment_invoiced"})


async def on_shipment_shipped(session: AsyncSession, event: ShipmentShipped) -> None:
    """A shipment left: issue its invoice by the channel's ``invoice_policy`` (``per_shipment``: this shipment's
    units; ``per_order``: the whole order once nothing is left to ship; ``manual``: nothing).

    Runs in the shipping transaction (fulfilment holds the order's lock), so the invoice exists exactly when the
    shipment left. Units invoiced already by hand are not billed twice; a channel whose invoices no legal entity
    issues refuses to ship (409 ``legal_entity_missing``) rather than ship without its invoice."""
    order = await orders.get_order(session, event.order_id)
    channel = await channels.channel_by_id(session, order.channel_id)
    try:
        if channel.invoice_policy == "per_shipment":
            shipped: dict[uuid.UUID, int] = {}
            for line_id, units in event.lines:
                shipped[line_id] = shipped.get(line_id, 0) + units
            await issuing.issue_for_order(
                session, event.actor, event.order_id, shipment_id=event.shipment_id, shipped=shipped
            )
        elif channel.invoice_policy == "per_order" and nothing_left_to_ship(order):
            await issuing.issue_for_order(session, event.actor, event.order_id)
    except Conflict as exc:
        if exc.code not in _NOTHING_NEW:
            raise


def nothing_left_to_ship(order: Order) -> bool:
    """The order's status says it shipped, or every unit not cancelled has left (its allocations fulfilled)."""
    if order.status in _SHIPPED:
        return True
    for line in order.lines:
        fulfilled = sum(a.quantity for a in line.allocations if a.status == "fulfilled")
        if fulfilled < line.quantity - line.cancelled_quantity:
            return False
    return True
