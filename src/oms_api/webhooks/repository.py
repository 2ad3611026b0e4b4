"""Every query of the webhooks context: endpoints, deliveries, attempts, and the worker's claims."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from oms_api.kit.outbox import Event
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.webhooks.domain import DeliveryStatus
from oms_api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

INSERT_CHUNK = 1000  # rows per multi-row INSERT (well under both databases' bound-parameter limits)
PENDING = DeliveryStatus.PENDING.value

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


async def count_failure(session: AsyncSession, endpoint_id: uuid.UUID) -> int:
    """One more delivery failed for good; returns the endpoint's run of failures (0 if it is gone)."""
    result = await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .returning(WebhookEndpoint.consecutive_failures)
    )
    value = result.scalar_one_or_none()
    return int(value or 0)


async def reset_failures(session: AsyncSession, endpoint_ids: Sequence[uuid.UUID]) -> None:
    if endpoint_ids:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(endpoint_ids), WebhookEndpoint.consecutive_failures != 0)
            .values(consecutive_failures=0)
        )


async def disable_if_active(session: AsyncSession, endpoint_id: uuid.UUID, reason: str, now: datetime) -> bool:
    """Disable an active endpoint (a conditional UPDATE, so only one worker reports it)."""
    result = await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.active.is_(True))
        .values(
            active=False,
            disabled_reason=reason,
            disabled_at=now,
            version=WebhookEndpoint.version + 1,
            updated_at=now,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


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
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id)
        .limit(page.limit + 1)
    )
    if page.after is not None:
        stmt = stmt.where(WebhookDelivery.id > page.after)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status.value)
    if event_type is not None:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    if event_id is not None:
        stmt = stmt.where(WebhookDelivery.event_id == event_id)
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


async def count_replayable(session: AsyncSession, since: datetime, until: datetime) -> int:
    stmt = select(func.count()).where(
        Event.occurred_at >= since, Event.occurred_at < until, Event.published_at.is_not(None)
    )
    return int((await session.execute(stmt)).scalar_one())


async def replayable_events(
    session: AsyncSession, since: datetime, until: datetime, after_seq: int, limit: int
) -> list[Any]:
    """Events of ``[since, until)`` already fanned out (the others will be anyway), in seq order."""
    stmt = (
        select(Event.seq, Event.id, Event.type, Event.aggregate_type, Event.aggregate_id)
        .where(
            Event.occurred_at >= since,
            Event.occurred_at < until,
            Event.published_at.is_not(None),
            Event.seq > after_seq,
        )
        .order_by(Event.seq)
        .limit(limit)
    )
    return list(await session.execute(stmt))


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    """Delete deliveries that ended before ``before``, with their attempts."""
    old = select(WebhookDelivery.id).where(WebhookDelivery.finished_at < before)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
    result = await session.execute(delete(WebhookDelivery).where(WebhookDelivery.finished_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- the worker: fan-out ----------------------------------------------------------------------------------------


# --- the worker: delivery claims --------------------------------------------------------------------------------


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease_until: datetime, token: uuid.UUID
) -> list[uuid.UUID]:
    """Claim up to ``limit`` due deliveries for one worker (a lease until ``lease_until``).

    Due: pending, its time has come, not claimed (or its claim expired: that worker died), its endpoint is
    active, and no earlier delivery for the same endpoint and aggregate is still pending (per-aggregate order).
    ``FOR UPDATE SKIP LOCKED`` lets any number of workers claim at once on PostgreSQL without waiting for
    each other or taking the same row; SQLite runs one writer at a time, which is as safe.
    """
    d = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    blocked = (
        select(earlier.id)
        .where(
            earlier.endpoint_id == d.endpoint_id,
            earlier.aggregate_id == d.aggregate_id,
            earlier.aggregate_type == d.aggregate_type,
            earlier.status == PENDING,
            or_(earlier.event_seq < d.event_seq, and_(earlier.event_seq == d.event_seq, earlier.id < d.id)),
        )
        .exists()
    )
    stmt = (
        select(d.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == d.endpoint_id)
        .where(
            d.status == PENDING,
            d.next_attempt_at <= now,
            or_(d.claimed_until.is_(None), d.claimed_until < now),
            WebhookEndpoint.active.is_(True),
            ~blocked,
        )
        .order_by(d.next_attempt_at, d.event_seq)
        .limit(limit)
        .with_for_update(skip_locked=True, of=d)
    )
    claimed = await session.execute(
        update(d)
        .where(d.id.in_(stmt.scalar_subquery()))
        .values(claimed_until=lease_until, claim_token=token)
        .returning(d.id)
    )
    return list(claimed.scalars())


async def claimed_work(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Any]:
    """What sending the claimed deliveries needs: the event, the endpoint's URL and secrets."""
    e = WebhookEndpoint
    stmt = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.attempt_count,
            WebhookDelivery.claim_token,
            e.url,
            e.secret,
            e.previous_secret,
            e.previous_secret_expires_at,
            Event.id.label("event_id"),
            Event.type.label("event_type"),
            Event.occurred_at,
            Event.data,
        )
        .join(e, e.id == WebhookDelivery.endpoint_id)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.event_seq)
    )
    return list(await session.execute(stmt))


async def still_held(session: AsyncSession, token: uuid.UUID, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``ids`` this worker's claim still holds (locked until commit, so it stays so)."""
    if not ids:
        return set()
    stmt = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claim_token == token)
        .with_for_update()
    )
    return set((await session.execute(stmt)).scalars())


SETTLED_FIELDS = ("status", "attempt_count", "next_attempt_at", "last_status_code", "last_error", "finished_at")


async def settle(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write attempts' consequences on their (held) deliveries and end the claims, in one batched UPDATE.

    Each row has ``delivery_id`` and every field of ``SETTLED_FIELDS``.
    """
    if not rows:
        return
    table = cast(Table, WebhookDelivery.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("delivery_id"))
        .values(claimed_until=None, claim_token=None, **{f: bindparam(f"new_{f}") for f in SETTLED_FIELDS})
    )
    params = [{"delivery_id": r["delivery_id"], **{f"new_{f}": r[f] for f in SETTLED_FIELDS}} for r in rows]
    await session.execute(stmt, params)


async def existing_deliveries(session: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set((await session.execute(select(WebhookDelivery.id).where(WebhookDelivery.id.in_(ids)))).scalars())


async def insert_attempts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookAttempt).values(list(rows)))


async def release_claims(session: AsyncSession, token: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    """Give back claimed deliveries that were not sent (shutdown), so another worker takes them at once."""
    if ids:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claim_token == token)
            .values(claimed_until=None, claim_token=None)
        )


async def backlog(session: AsyncSession, now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """``{queue: (size, oldest)}`` for the outbox, pending deliveries and those due now."""
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
    return {
        "outbox": (int(outbox[0]), outbox[1]),
        "deliveries": (int(pending[0]), pending[1]),
        "due": (int(due), None),
    }
