"""How payments react to other contexts' changes (subscribed on the event bus by ``oms_api.bootstrap``).

Handlers get no settings from the bus: they use the process's (``get_settings``, read from the environment),
which is what every entry point of a deployed service runs with, unless the caller put its own on the session
(``SETTINGS_KEY``: this context's routes and jobs do)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment.events import ShipmentShipped
from oms_api.orders.events import OrderCancelled, OrderPlaced
from oms_api.payments import capturing, placement, voiding
from oms_api.settings import Settings, get_settings

SETTINGS_KEY = "oms_settings"


def settings_for(session: AsyncSession) -> Settings:
    given = session.info.get(SETTINGS_KEY)
    return given if isinstance(given, Settings) else get_settings()


async def on_order_placed(session: AsyncSession, event: OrderPlaced) -> None:
    """Authorise, capture or record the order's money by its channel's payment policy (``placement``); an
    ``external`` channel's order that brings no payment has nothing to record (the hot path of placement)."""
    if event.payment is None and event.payment_policy == "external":
        return
    await placement.on_order_placed(session, settings_for(session), event)


async def on_shipment_shipped(session: AsyncSession, event: ShipmentShipped) -> None:
    """A shipment left: capture its share of the order (``authorize_at_placement``)."""
    await capturing.capture_shipment(
        session, settings_for(session), event.actor, event.order_id, event.shipment_id, event.lines
    )


async def on_order_cancelled(session: AsyncSession, event: OrderCancelled) -> None:
    """The order (or its unshipped remainder) was cancelled: void what remains authorised and uncaptured."""
    await voiding.void_order(session, settings_for(session), event.actor, event.order_id, event.reason)
