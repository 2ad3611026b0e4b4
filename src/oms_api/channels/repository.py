"""Every query of sales channels."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels.models import Channel
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import id_or_code


async def get_by_ref(session: AsyncSession, ref: str) -> Channel | None:
    """A channel by its id or its code."""
    stmt = select(Channel).where(id_or_code(Channel.id, Channel.code, ref))
    return (await session.execute(stmt)).scalars().first()


async def get_by_code(session: AsyncSession, code: str) -> Channel | None:
    return (await session.execute(select(Channel).where(Channel.code == code))).scalars().first()


async def insert(session: AsyncSession, channel: Channel) -> bool:
    """Add ``channel``; False when a concurrent request took its code first (the savepoint keeps the
    transaction usable, so the caller can still look the winner up and answer 409 instead of 500)."""
    try:
        async with session.begin_nested():
            session.add(channel)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def list_channels(
    session: AsyncSession, page: PageParams, *, type_: str | None, active: bool | None
) -> Slice[Channel]:
    stmt = select(Channel).order_by(Channel.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(Channel.id > page.after)
    if type_ is not None:
        stmt = stmt.where(Channel.type == type_)
    if active is not None:
        stmt = stmt.where(Channel.active == active)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)
