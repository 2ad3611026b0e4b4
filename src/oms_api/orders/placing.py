"""Placing an order: draft it, write it, and reserve stock for every line (all or nothing), or take over a cart's
holds at checkout.

The hot path issues one statement per step (channel with customer, SKUs with their stock levels locked, order,
lines, reservation UPDATE, reservations, ledger, plan, events) so that placement stays within a dozen statements
including authentication and idempotency.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import service as allocation
from oms_api.kit.auth import Principal
from oms_api.kit.metrics import PLACEMENTS_REFUSED
from oms_api.orders import drafting
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.models import OrderLine as LineRow
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock.service import Held, Hold, LevelFacts, SkuStock

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.channels.models import Channel


async def place_order(session: AsyncSession, actor: Principal, body: OrderCreate, settings: Settings) -> Order:
    """Create the order and reserve its stock, or change nothing and say why."""
    draft = await drafting.draft_order(session, actor, body, lock_stock=True)
    await drafting.insert_draft(session, draft)
    holds = await reserve(session, actor, draft.order, draft.lines, draft.stock, draft.channel, settings, draft.levels)
    return await drafting.placed(session, actor, draft, body, drafting.finish(session, actor, draft, holds))


async def reserve(
    session: AsyncSession,
    actor: Principal,
    order: OrderRow,
    lines: Sequence[LineRow],
    found: dict[str, SkuStock],
    channel: Channel,
    settings: Settings,
    locked: Sequence[LevelFacts] | None = None,
) -> list[Hold]:
    """Source the order under its channel's policy and reserve the plan, all or nothing (409 ``out_of_stock``).

    The engine reads the shipping address (coordinates, else the offline geocoder); it plans on stock levels
    row-locked in id order (``locked`` when the draft read them) and re-plans on fresh figures if a stock level
    appeared in between. The plan and its explanation are stored (``GET /v1/orders/{id}/allocation``).
    """
    to_source = [
        allocation.LineToSource(line.id, line.line_no, line.sku, found[line.sku].sku_id, line.quantity)
        for line in lines
    ]
    sourced = await allocation.source_and_reserve(
        session,
        actor.actor,
        order_id=order.id,
        address=order.shipping_address,
        policy=allocation.policy_of(channel.sourcing, settings, pickup=order.pickup_warehouse_id),
        lines=to_source,
        trigger="placement",
        locked=locked,
    )
    if not sourced.plan.complete:
        PLACEMENTS_REFUSED.labels("out_of_stock").inc()
        raise allocation.out_of_stock(sourced.plan.shortages, {s.sku_id: s.sku for s in found.values()})
    return sourced.holds


async def place_from_cart(
    session: AsyncSession, actor: Principal, body: OrderCreate, *, cart_id: uuid.UUID, held: Sequence[Held]
) -> Order:
    """Checkout: create the order exactly as a placement would (same validation, totals, duplicate check and
    events), but take over the cart's holds as its reservations instead of reserving: ``reserved`` never moves,
    so there is no moment at which another buyer could take the units."""
    draft = await drafting.draft_order(session, actor, body)
    await drafting.insert_draft(session, draft)
    line_of_sku = {line.sku_id: line.id for line in draft.lines if line.sku_id is not None}
    converted = await stock.convert_holds(session, cart_id, held, order_id=draft.order.id, line_of_sku=line_of_sku)
    return await drafting.placed(session, actor, draft, body, drafting.finish(session, actor, draft, converted))
