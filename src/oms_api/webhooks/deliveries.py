"""Deliveries of one endpoint: listing them, redelivering, skipping dead letters, replaying a time range.

The ordering rule (README, "Webhooks"): for each endpoint, the events of one resource are sent in the order
they happened, and a delivery waits while an earlier one of the same endpoint and resource is pending *or is
a dead letter nobody resolved*. An operator resolves a dead letter by redelivering it (a new delivery of the
same event, which then holds the order until it is delivered) or by skipping it (the later events go on
without it). ``redeliver_failed`` redelivers every dead letter of an endpoint in event order; since each
redelivery keeps its event's place (``event_seq``), redeliveries arrive in order whatever order they were
asked in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, Unprocessable, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.settings import Settings
from oms_api.webhooks import domain, repository
from oms_api.webhooks.domain import DeliveryStatus, Resolution
from oms_api.webhooks.fanout import delivery_row
from oms_api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

REPLAY_CHUNK = 1000


async def _endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}", code="webhook_endpoint_not_found")
    return endpoint


async def _delivery(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery:
    delivery = await repository.get_delivery(session, endpoint_id, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} for this endpoint", code="delivery_not_found")
    return delivery


@dataclass(frozen=True)
class DeliveryView:
    """A delivery with its attempts (and, for one delivery, the body it sends)."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]
    payload: dict[str, Any] | None = None


async def _view(session: AsyncSession, delivery: WebhookDelivery) -> DeliveryView:
    await session.refresh(delivery)
    return DeliveryView(delivery, (await repository.attempts_of(session, [delivery.id])).get(delivery.id, []))


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    page: PageParams,
    *,
    status: DeliveryStatus | None,
    event_type: str | None,
    event_id: uuid.UUID | None,
) -> Slice[DeliveryView]:
    await _endpoint(session, endpoint_id)
    found = await repository.list_deliveries(
        session, endpoint_id, page, status=status, event_type=event_type, event_id=event_id
    )
    attempts = await repository.attempts_of(session, [d.id for d in found.items])
    items = [DeliveryView(d, attempts.get(d.id, [])) for d in found.items]
    return Slice(items=items, has_more=found.has_more, next_after=found.next_after)


async def get_delivery(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryView:
    await _endpoint(session, endpoint_id)
    delivery = await _delivery(session, endpoint_id, delivery_id)
    attempts = await repository.attempts_of(session, [delivery.id])
    event = await repository.event_by_id(session, delivery.event_id)
    payload = domain.envelope(str(event.id), event.type, event.occurred_at, event.data) if event else {}
    return DeliveryView(delivery, attempts.get(delivery.id, []), payload)


def _redelivery_row(delivery: WebhookDelivery, now: datetime) -> dict[str, Any]:
    """A new pending delivery of the same event as ``delivery``, in its place (the same ``event_seq``)."""
    return {
        "id": uuid7(),
        "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "event_seq": delivery.event_seq,
        "event_type": delivery.event_type,
        "aggregate_type": delivery.aggregate_type,
        "aggregate_id": delivery.aggregate_id,
        "origin": "redelivery",
        "status": DeliveryStatus.PENDING.value,
        "attempt_count": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _require_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.active:
        raise Conflict(
            "The endpoint is disabled: enable it first (POST …/enable)",
            code="webhook_endpoint_disabled",
            disabled_reason=endpoint.disabled_reason,
        )


async def redeliver(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryView:
    """Send one event again: a finished delivery gets a new one; a pending one is made due now.

    Redelivering a dead letter resolves it: the new delivery holds its resource's later events instead, in the
    dead letter's place, so they follow it once it is delivered.
    """
    endpoint = await _endpoint(session, endpoint_id)
    _require_active(endpoint)
    delivery = await _delivery(session, endpoint_id, delivery_id)
    now = utcnow()
    if delivery.status == DeliveryStatus.PENDING:
        await repository.make_due(session, delivery.id, now)
        return await _view(session, delivery)
    event = await repository.event_by_id(session, delivery.event_id)
    if event is None:  # events are never deleted; only a hand-edited database gets here
        raise Conflict("The event of this delivery no longer exists", code="event_missing")
    row = delivery_row(endpoint.id, event, "redelivery", now)
    await repository.insert_deliveries(session, [row])
    await repository.resolve(session, [delivery.id], Resolution.REDELIVERED, now)
    created = await repository.get_delivery(session, endpoint.id, row["id"])
    assert created is not None
    return DeliveryView(created, [])


async def redeliver_failed(session: AsyncSession, endpoint_id: uuid.UUID) -> int:
    """Redeliver every dead letter of the endpoint not yet resolved, in event order; returns how many.

    The procedure after an outage: enable the endpoint, then this (and ``replay`` for the events that
    happened while it was disabled, which were not queued for it).
    """
    endpoint = await _endpoint(session, endpoint_id)
    _require_active(endpoint)
    now = utcnow()
    queued = 0
    while dead := await repository.dead_letters(session, endpoint.id, REPLAY_CHUNK):
        await repository.insert_deliveries(session, [_redelivery_row(d, now) for d in dead])
        await repository.resolve(session, [d.id for d in dead], Resolution.REDELIVERED, now)
        queued += len(dead)
    return queued


async def skip(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryView:
    """Give up a dead letter: the later events of its resource are sent without it (409 for anything else).

    Skipping one already skipped changes nothing; one already redelivered is resolved by its redelivery.
    """
    await _endpoint(session, endpoint_id)
    delivery = await _delivery(session, endpoint_id, delivery_id)
    if delivery.status != DeliveryStatus.FAILED:
        raise Conflict(
            f"Only a dead letter (status failed) can be skipped; this delivery is {delivery.status}",
            code="delivery_not_dead_letter",
        )
    if delivery.resolution == Resolution.REDELIVERED:
        raise Conflict(
            "This dead letter was redelivered: skip its redelivery instead if that one fails too",
            code="dead_letter_redelivered",
        )
    await repository.resolve(session, [delivery.id], Resolution.SKIPPED, utcnow())
    return await _view(session, delivery)


async def replay(
    session: AsyncSession, endpoint_id: uuid.UUID, since: datetime, until: datetime | None, settings: Settings
) -> tuple[int, datetime]:
    """Queue every event of ``[since, until)`` the endpoint subscribes to, again, in the order they happened."""
    endpoint = await _endpoint(session, endpoint_id)
    _require_active(endpoint)
    now = utcnow()
    end = min(until or now, now)
    if end <= since:
        raise field_error("/body/since", "must be before until (and not in the future)", "empty_range")
    total, first_seq, last_seq = await repository.replay_range(session, since, end)
    if total > settings.webhooks_replay_max_events:
        raise Unprocessable(
            f"The range holds {total} events, more than {settings.webhooks_replay_max_events}: replay shorter ranges",
            code="replay_too_large",
            events_in_range=total,
        )
    queued = 0
    for after in range(first_seq - 1, last_seq, REPLAY_CHUNK) if total else ():
        # A window of REPLAY_CHUNK seqs per statement: each reads a bounded piece of the primary key.
        events = await repository.replayable_events(session, since, end, after, min(after + REPLAY_CHUNK, last_seq))
        rows = [
            delivery_row(endpoint.id, e, "replay", now) for e in events if domain.matches(endpoint.event_types, e.type)
        ]
        await repository.insert_deliveries(session, rows)
        queued += len(rows)
    return queued, end
