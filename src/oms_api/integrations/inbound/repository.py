"""Every query of inbound deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from oms_api.integrations.inbound.domain import Outcome
from oms_api.integrations.inbound.models import InboundEvent
from oms_api.kit.keyset import filtered_page
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import upsert_insert


async def insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a delivery unless its (source, channel, delivery id) is stored already; False for a duplicate."""
    stmt = (
        upsert_insert(session, InboundEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "channel_id", "external_id"])
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get(
    session: AsyncSession, event_id: uuid.UUID, *, for_update: bool = False, skip_locked: bool = False
) -> InboundEvent | None:
    """One delivery; ``for_update`` locks it (``skip_locked``: None when someone else holds it)."""
    stmt = select(InboundEvent).where(InboundEvent.id == event_id)
    if for_update:
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_by_delivery(
    session: AsyncSession, source: str, channel_id: uuid.UUID, external_id: str
) -> InboundEvent | None:
    stmt = select(InboundEvent).where(
        InboundEvent.source == source, InboundEvent.channel_id == channel_id, InboundEvent.external_id == external_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[InboundEvent]:
    """Pending deliveries whose time has come, oldest first, locked; rows another worker holds are skipped."""
    stmt = (
        select(InboundEvent)
        .where(
            InboundEvent.outcome == Outcome.PENDING.value,
            or_(InboundEvent.next_attempt_at.is_(None), InboundEvent.next_attempt_at <= now),
        )
        .order_by(InboundEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def list_events(
    session: AsyncSession,
    page: PageParams,
    *,
    source: str | None = None,
    outcome: str | None = None,
    channel_id: uuid.UUID | None = None,
) -> Slice[InboundEvent]:
    """A page of deliveries, oldest first: a range of the index of the most selective filter given
    (``kit.keyset``); a channel comes from one source, so the channel leads."""
    stmt = filtered_page(
        select(InboundEvent).options(defer(InboundEvent.body), defer(InboundEvent.headers)),  # lists show neither
        InboundEvent.id,
        page.after,
        [(InboundEvent.channel_id, channel_id), (InboundEvent.outcome, outcome), (InboundEvent.source, source)],
        [(InboundEvent.channel_id,), (InboundEvent.outcome,), (InboundEvent.source,)],
    ).limit(page.limit + 1)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)
