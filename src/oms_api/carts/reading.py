"""Reading carts: one with its lines and holds, and lists."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carts import repository
from oms_api.carts.domain import CartStatus
from oms_api.carts.models import Cart as CartRow
from oms_api.carts.schemas import Cart, CartHold, CartLine
from oms_api.channels import service as channels
from oms_api.kit.errors import NotFound
from oms_api.kit.money import Money
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.stock import service as stock


async def load(session: AsyncSession, cart_id: uuid.UUID, *, for_update: bool = False) -> CartRow:
    cart = await repository.get(session, cart_id, for_update=for_update)
    if cart is None:
        raise NotFound(f"No cart {cart_id}", code="cart_not_found")
    return cart


def _money(minor: int | None, currency: str) -> MoneyIn | None:
    return None if minor is None else MoneyIn.of(Money.from_minor(minor, currency))


async def views_of(session: AsyncSession, carts: Sequence[CartRow]) -> list[Cart]:
    """The wire form of carts (lines and the holds of the active ones), in a few queries for any number."""
    ids = [c.id for c in carts]
    lines = await repository.lines_of(session, ids)
    held: dict[tuple[uuid.UUID, uuid.UUID], list[CartHold]] = defaultdict(list)
    for h in await stock.holds_of(session, [c.id for c in carts if c.status == CartStatus.ACTIVE]):
        held[(h.cart_id, h.sku_id)].append(
            CartHold(warehouse=h.warehouse, warehouse_id=h.warehouse_id, quantity=h.quantity)
        )
    codes = {cid: (await channels.get_channel(session, str(cid))).code for cid in {c.channel_id for c in carts}}
    result = []
    for cart in carts:
        cur = cart.currency
        priced = [line.unit_price_minor for line in lines[cart.id]]
        subtotal = (
            sum((p or 0) * line.quantity for p, line in zip(priced, lines[cart.id], strict=True))
            if priced and None not in priced
            else None
        )
        result.append(
            Cart(
                id=cart.id,
                channel=codes[cart.channel_id],
                channel_id=cart.channel_id,
                customer_id=cart.customer_id,
                currency=cur,
                status=cart.status,
                status_reason=cart.status_reason,
                expires_at=cart.expires_at,
                order_id=cart.order_id,
                lines=[
                    CartLine(
                        id=line.id,
                        line_no=line.line_no,
                        sku=line.sku,
                        sku_id=line.sku_id,
                        name=line.name,
                        quantity=line.quantity,
                        unit_price=_money(line.unit_price_minor, cur),
                        holds=held.get((cart.id, line.sku_id), []),
                    )
                    for line in lines[cart.id]
                ],
                subtotal=_money(subtotal, cur),
                created_at=cart.created_at,
                updated_at=cart.updated_at,
                closed_at=cart.closed_at,
                version=cart.version,
            )
        )
    return result


async def view_of(session: AsyncSession, cart: CartRow) -> Cart:
    return (await views_of(session, [cart]))[0]


async def get_cart(session: AsyncSession, cart_id: uuid.UUID) -> Cart:
    return await view_of(session, await load(session, cart_id))


async def list_carts(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer_id: uuid.UUID | None = None,
) -> Slice[CartRow]:
    channel_id = None
    if channel:
        try:
            channel_id = (await channels.get_channel(session, channel)).id
        except NotFound:  # an unknown channel finds nothing, as other filters do
            return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_carts(session, page, status=status, channel_id=channel_id, customer_id=customer_id)
