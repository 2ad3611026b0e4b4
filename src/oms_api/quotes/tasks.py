"""Background job of quotes: expire sent quotes past their validity (the worker schedules it).

``expire_quotes`` runs in the caller's transaction and writes its ``quote.expired`` events into it; the caller
commits. Several workers may run it at once on PostgreSQL: each claims other quotes (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.clock import utcnow
from oms_api.quotes import service

BATCH = 200


async def expire_quotes(session: AsyncSession, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Expire up to ``limit`` sent quotes whose ``valid_until`` is before today (UTC), releasing their held stock.

    Returns how many expired. ``now`` defaults to the current time (tests pass a later one instead of waiting).
    """
    expired = await service.expire_due(session, now=now or utcnow(), limit=limit)
    await outbox.flush_events(session)  # the events are part of this transaction, whoever commits it
    return expired
