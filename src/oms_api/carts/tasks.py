"""Background job of carts: expire carts past their expiry (the worker schedules it).

``expire_carts`` runs in the caller's transaction and writes its ``cart.expired`` events into it;
the caller commits. Several workers may run it at once on PostgreSQL: each claims other carts
(``FOR UPDATE SKIP LOCKED``), so no cart is expired twice and none waits on a checkout in progress.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carts import service
from oms_api.kit import outbox
from oms_api.kit.clock import utcnow

BATCH = 200


async def expire_carts(session: AsyncSession, *, now: datetime | None = None, limit: int = BATCH) -> int:
    """Release the holds of up to ``limit`` carts past ``expires_at`` and emit ``cart.expired`` for each.

    Returns how many carts expired (``limit`` means more may be due: call again). ``now`` defaults to
    the current time (tests pass a later one instead of waiting).
    """
    expired = await service.expire_due(session, now=now or utcnow(), limit=limit)
    await outbox.flush_events(session)  # the events are part of this transaction, whoever commits it
    return expired
