"""Queries of the webhooks context: endpoints, deliveries, attempts (the worker's claims: ``claims_repository``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.keyset import filtered_page
from oms_api.kit.outbox import Event
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.webhooks.domain import DeliveryStatus, Resolution
from oms_api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

INSERT_CHUNK = 1000  # rows per multi-row INSERT (well under both databases' bound-parameter limits)
PENDING = DeliveryStatus.PENDING.value
FAILED = DeliveryStatus.FAILED.value


def holds_order(d: Any) -> ColumnElement[bool]:
    """SQL of ``domain.holds_order`` (the predicate of ``ix_webhook_deliveries_in_order``)."""
    return or_(d.status == PENDING, and_(d.status == FAILED, d.resolution.is_(None)))


def _dead(d: Any) -> ColumnElement[bool]:
    """An unresolved dead letter."""
    return and_(d.status == FAILED, d.resolution.is_(None))


# --- endpoints --------------------------------------------------------------------------------------------------


async def get_endpoint(
    session: AsyncSession, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().first()


async def list_endpoints(session: AsyncSession, page: PageParams, *, active: bool | None) -> Slice[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(WebhookEndpoint.id > page.after)
    if active is not None:
        stmt = stmt.where(WebhookEndpoint.active == active)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def delete_endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> None:
    """Delete an endpoint with its deliveries and attempts (explicitly: not every database cascades)."""
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id))
    await session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))


async def active_subscriptions(session: AsyncSession) -> list[tuple[uuid.UUID, list[str]]]:
    """``(endpoint id, event type patterns)`` of every active endpoint."""
    rows = await session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.active.is_(True))
    )
    return [(row.id, list(row.event_types)) for row in rows]


# --- deliveries and attempts ------------------------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    page: PageParams,
    *,
    status: DeliveryStatus | None,
    event_type: str | None,
    event_id: uuid.UUID | None,
) -> Slice[WebhookDelivery]:
    """A page of the endpoint's deliveries, oldest first: a range of the index of the endpoint with the status or
    the event type (``kit.keyset``); one event's few deliveries are found through ``event_id``'s index."""
    d = WebhookDelivery
    stmt = filtered_page(
        select(d),
        d.id,
        page.after,
        [(d.endpoint_id, endpoint_id), (d.status, status.value if status else None), (d.event_type, event_type)],
        [(d.endpoint_id, d.status), (d.endpoint_id, d.event_type), (d.endpoint_id,)],
    ).limit(page.limit + 1)
    if event_id is not None:
        stmt = stmt.where(d.event_id == event_id)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def get_delivery(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
    return (await session.execute(stmt)).scalars().first()


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """Every attempt of the given deliveries, oldest first."""
    if not delivery_ids:
        return {}
    rows = await session.execute(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt_no, WebhookAttempt.id)
    )
    found: dict[uuid.UUID, list[WebhookAttempt]] = defaultdict(list)
    for attempt in rows.scalars():
        found[attempt.delivery_id].append(attempt)
    return found


async def event_by_id(session: AsyncSession, event_id: uuid.UUID) -> Event | None:
    return (await session.execute(select(Event).where(Event.id == event_id))).scalars().first()


async def insert_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(WebhookDelivery).values(list(rows[start : start + INSERT_CHUNK])))


async def make_due(session: AsyncSession, delivery_id: uuid.UUID, now: datetime) -> None:
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(next_attempt_at=now))


async def replay_range(session: AsyncSession, since: datetime, until: datetime) -> tuple[int, int, int]:
    """How many events of ``[since, until)`` were fanned out, and the first and last of their seqs (0 if none).

    Read through ``ix_events_occurred_at``. The replay then reads the primary key between those two seqs, one
    window at a time (``replayable_events``), instead of walking it from the oldest event: a range's events take
    the seqs between its first and last, give or take the few that committed out of step with their clock.
    """
    stmt = select(func.count(), func.min(Event.seq), func.max(Event.seq)).where(
        Event.occurred_at >= since, Event.occurred_at < until, Event.published_at.is_not(None)
    )
    count, first, last = (await session.execute(stmt)).one()
    return int(count), int(first or 0), int(last or 0)


async def replayable_events(
    session: AsyncSession, since: datetime, until: datetime, after_seq: int, upto_seq: int
) -> list[Any]:
    """Events of ``[since, until)`` already fanned out (the others will be anyway) whose seq is in
    ``(after_seq, upto_seq]``, in seq order: a bounded range of the primary key (see ``replay_range``)."""
    stmt = (
        select(Event.seq, Event.id, Event.type, Event.aggregate_type, Event.aggregate_id)
        .where(
            Event.occurred_at >= since,
            Event.occurred_at < until,
            Event.published_at.is_not(None),
            Event.seq > after_seq,
            Event.seq <= upto_seq,
        )
        .order_by(Event.seq)
    )
    return list(await session.execute(stmt))


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    """Delete deliveries that ended before ``before``, with their attempts.

    Not the dead letters nobody resolved: they hold their resource's later events, and deleting them
    would let those through out of order, unseen.
    """
    d = WebhookDelivery
    purgeable = and_(d.finished_at < before, ~_dead(d))
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(select(d.id).where(purgeable))))
    result = await session.execute(delete(d).where(purgeable))
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- what an endpoint has waiting, and its dead letters ---------------------------------------------------------


async def delivery_counts(session: AsyncSession, endpoint_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """``{endpoint id: (pending deliveries, unresolved dead letters)}`` (endpoints with neither are absent)."""
    if not endpoint_ids:
        return {}
    d = WebhookDelivery
    rows = await session.execute(
        select(
            d.endpoint_id,
            func.count().filter(d.status == PENDING),
            func.count().filter(d.status == FAILED),
        )
        .where(d.endpoint_id.in_(endpoint_ids), holds_order(d))
        .group_by(d.endpoint_id)
    )
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


async def dead_letters(session: AsyncSession, endpoint_id: uuid.UUID, limit: int) -> list[WebhookDelivery]:
    """The endpoint's unresolved dead letters in event order, locked (two redeliveries do not both take one)."""
    d = WebhookDelivery
    stmt = (
        select(d)
        .where(d.endpoint_id == endpoint_id, _dead(d))
        .order_by(d.event_seq, d.id)
        .limit(limit)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def resolve(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID], resolution: Resolution, now: datetime
) -> set[uuid.UUID]:
    """Mark unresolved dead letters redelivered or skipped; returns those that were (not already resolved)."""
    if not delivery_ids:
        return set()
    d = WebhookDelivery
    result = await session.execute(
        update(d)
        .where(d.id.in_(delivery_ids), _dead(d))
        .values(resolution=resolution.value, resolved_at=now)
        .returning(d.id)
    )
    return set(result.scalars())


async def events_by_id(session: AsyncSession, event_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Event]:
    if not event_ids:
        return {}
    rows = await session.execute(select(Event).where(Event.id.in_(event_ids)))
    return {event.id: event for event in rows.scalars()}


# --- the worker's gauges ---------------------------------------------------------------------------------------


async def backlog(session: AsyncSession, now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """``{queue: (size, oldest)}`` for the outbox, pending deliveries, those due now, those of disabled
    endpoints (stuck until the endpoint is enabled) and the unresolved dead letters (holding their resources)."""
    outbox = (
        await session.execute(select(func.count(), func.min(Event.occurred_at)).where(Event.published_at.is_(None)))
    ).one()
    pending = (
        await session.execute(
            select(func.count(), func.min(WebhookDelivery.created_at)).where(WebhookDelivery.status == PENDING)
        )
    ).one()
    due = (
        await session.execute(
            select(func.count()).where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
        )
    ).scalar_one()
    stuck = (
        await session.execute(
            select(func.count(), func.min(WebhookDelivery.created_at))
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == PENDING, WebhookEndpoint.active.is_(False))
        )
    ).one()
    dead = (
        await session.execute(select(func.count(), func.min(WebhookDelivery.finished_at)).where(_dead(WebhookDelivery)))
    ).one()
    return {
        "outbox": (int(outbox[0]), outbox[1]),
        "deliveries": (int(pending[0]), pending[1]),
        "due": (int(due), None),
        "disabled": (int(stuck[0]), stuck[1]),
        "dead_letters": (int(dead[0]), dead[1]),
    }
