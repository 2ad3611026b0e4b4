"""Outbox fan-out: committed events become one delivery per subscribed, active endpoint.

The caller holds the ``outbox_fanout`` worker lock for the transaction, so one fan-out runs at a time:
deliveries are created in event order, which the per-aggregate ordering of deliveries relies on (two
fan-outs committing out of order could let a later event of an order overtake an earlier one).
Events are read by ``published_at IS NULL`` rather than past a watermark, so an event whose transaction
committed after a later-numbered one is still picked up.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.kit.metrics import EVENTS_FANNED_OUT
from oms_api.webhooks import domain, repository
from oms_api.webhooks.domain import DeliveryStatus


async def fan_out(session: AsyncSession, limit: int) -> int:
    """Turn up to ``limit`` unpublished events into deliveries and mark them published; returns how many."""
    events = await outbox.unpublished(session, limit)
    if not events:
        return 0
    subscriptions = await repository.active_subscriptions(session)
    now = utcnow()
    rows = [
        delivery_row(endpoint_id, event, "fanout", now)
        for event in events
        for endpoint_id, patterns in subscriptions
        if domain.matches(patterns, event.type)
    ]
    await repository.insert_deliveries(session, rows)
    await outbox.mark_published(session, [event.seq for event in events], now)
    EVENTS_FANNED_OUT.inc(len(events))
    return len(events)


def delivery_row(endpoint_id: uuid.UUID, event: Any, origin: str, now: datetime) -> dict[str, Any]:
    """A new pending delivery of ``event`` (an events row): from the fan-out, a redelivery or a replay."""
    return {
        "id": uuid7(),
        "endpoint_id": endpoint_id,
        "event_id": event.id,
        "event_seq": event.seq,
        "event_type": event.type,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "origin": origin,
        "status": DeliveryStatus.PENDING.value,
        "attempt_count": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
