"""The orders context's service: what other contexts (and this context's routers) may ask of orders.

Other contexts import this module only. The use cases live in modules named after them:

- ``placing``: place an order (sourcing and reserving its stock), or check a cart out into one;
- ``intake``: take in a storefront's order, held when it cannot be served as sent;
- ``reading``: one order, lists, history;
- ``lifecycle``: cancel, hold, release, edit, and the steps fulfilment drives (``lock_order``, ``advance``);
- ``allocating``: re-source all, part or a batch of orders;
- ``paying``: the order's payment status and payment hold, kept by payments; holds of other contexts (credit);
- ``charging``: the selected carrier rate charged as the order's shipping (channels that charge it).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.auth import Principal
from oms_api.orders import drafting
from oms_api.orders.allocating import BatchResult, Move, allocate_batch, allocate_order, reallocate
from oms_api.orders.charging import charge_selected_rate
from oms_api.orders.intake import IntakeResult, find_order, take_in
from oms_api.orders.lifecycle import advance, cancel_order, hold_order, lock_order, release_hold, update_order
from oms_api.orders.paying import hold_for, hold_for_payment, release_payment_hold, set_payment_status
from oms_api.orders.placing import place_from_cart, place_order
from oms_api.orders.reading import get_order, history, list_orders, load, open_orders_of, view_of
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.orders.views import order_view

__all__ = [
    "BatchResult",
    "IntakeResult",
    "Move",
    "advance",
    "allocate_batch",
    "allocate_order",
    "cancel_order",
    "charge_selected_rate",
    "find_order",
    "get_order",
    "history",
    "hold_for",
    "hold_for_payment",
    "hold_order",
    "list_orders",
    "load",
    "lock_order",
    "open_orders_of",
    "place_from_cart",
    "place_order",
    "preview_order",
    "reallocate",
    "release_hold",
    "release_payment_hold",
    "set_payment_status",
    "take_in",
    "update_order",
    "view_of",
]


async def preview_order(session: AsyncSession, actor: Principal, body: OrderCreate) -> Order:
    """The order ``body`` would place, validated and priced exactly as placement would (channel, customer, SKUs,
    taxes at the destination today, shipping charge), with nothing written and no stock touched: how a quote
    prices its lines so that its acceptance places an order of the same amounts. Give an existing customer
    (``CustomerRef``): inline details would be matched or created."""
    draft = await drafting.draft_order(session, actor, body)
    return order_view(draft.order, draft.lines, {}, draft.channel.code)
