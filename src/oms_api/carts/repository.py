"""Every query of carts and their lines."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carts.domain import CartStatus
from oms_api.carts.models import Cart, CartLine
from oms_api.kit.keyset import filtered_page
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import dialect_name


async def add(session: AsyncSession, cart: Cart, lines: Sequence[CartLine]) -> None:
    session.add(cart)
    session.add_all(lines)
    await session.flush()


async def get(session: AsyncSession, cart_id: uuid.UUID, *, for_update: bool = False) -> Cart | None:
    stmt = select(Cart).where(Cart.id == cart_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def lines_of(session: AsyncSession, cart_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[CartLine]]:
    """The lines of each cart, in line order."""
    found: dict[uuid.UUID, list[CartLine]] = defaultdict(list)
    if cart_ids:
        stmt = select(CartLine).where(CartLine.cart_id.in_(list(cart_ids))).order_by(CartLine.cart_id, CartLine.line_no)
        for line in (await session.execute(stmt)).scalars():
            found[line.cart_id].append(line)
    return found


async def remove_lines(session: AsyncSession, line_ids: Sequence[uuid.UUID]) -> None:
    if line_ids:
        await session.execute(
            delete(CartLine).where(CartLine.id.in_(list(line_ids))).execution_options(synchronize_session=False)
        )


async def list_carts(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None = None,
    channel_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
) -> Slice[Cart]:
    """A page of carts, oldest first: a range of the index of the most selective filter given (``kit.keyset``)."""
    stmt = filtered_page(
        select(Cart),
        Cart.id,
        page.after,
        [(Cart.customer_id, customer_id), (Cart.channel_id, channel_id), (Cart.status, status)],
        [(Cart.customer_id,), (Cart.channel_id,), (Cart.status,)],
    ).limit(page.limit + 1)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def claim_expired(session: AsyncSession, now: datetime, limit: int) -> list[Cart]:
    """Active carts past their expiry, locked for this transaction, oldest expiry first.

    On PostgreSQL ``SKIP LOCKED`` lets several workers expire at once (each takes other carts) and
    never waits on a cart a checkout or an update holds; SQLite has one writer at a time anyway.
    """
    stmt = (
        select(Cart)
        .where(Cart.status == CartStatus.ACTIVE.value, Cart.expires_at <= now)
        .order_by(Cart.expires_at, Cart.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())
