"""Background work of storefront intake: apply the deliveries that are stored but not applied yet.

``process_stored`` runs right after a delivery is answered (best effort, in its own transaction);
``process_pending`` is the worker's job that picks up whatever that left: a process that died in between, a
cancellation that waited for its order, a database that was briefly gone.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.integrations.inbound import repository, service
from oms_api.integrations.inbound.domain import Outcome
from oms_api.kit import outbox
from oms_api.kit.clock import utcnow
from oms_api.settings import Settings, get_settings

log = structlog.get_logger("oms_api.integrations")

BATCH = 50


async def process_pending(session: AsyncSession, settings: Settings | None = None, *, limit: int = BATCH) -> int:
    """Apply up to ``limit`` due deliveries in ``session`` (the caller commits); returns how many were handled.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so workers running side by side never take the same one.
    """
    settings = settings or get_settings()
    events = await repository.claim_due(session, utcnow(), limit)
    for event in events:
        await service.process(session, event, settings)
    await outbox.flush_events(session)
    return len(events)


async def process_stored(sessions: async_sessionmaker[AsyncSession], event_id: uuid.UUID, settings: Settings) -> None:
    """Apply one just-stored delivery in a transaction of its own. Never raises: what fails here stays pending
    and ``process_pending`` takes it up."""
    try:
        async with sessions() as session:
            event = await repository.get(session, event_id, for_update=True, skip_locked=True)
            if event is not None and event.outcome == Outcome.PENDING and event.next_attempt_at is None:
                await service.process(session, event, settings)
                await outbox.flush_events(session)
            await session.commit()
    except Exception:
        log.exception("inbound_delivery_not_applied", event_id=str(event_id))
