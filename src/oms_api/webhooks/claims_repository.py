"""The worker's queries: claiming due deliveries within each endpoint's budget, attempts, leases, endpoint health.

A claim is a lease (``claimed_until``) under the worker's ``claim_token``. Every claim also starts an attempt
(``attempt_count`` + 1 and an ``in_flight`` attempt row) in the same transaction, before anything is sent, so an
attempt cut short by a crash is still counted and shown; the worker renews its leases while the requests run
(``renew_leases``), so a lease can be short and a dead worker's deliveries are taken over soon.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, literal, or_, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from oms_api.kit.ids import uuid7
from oms_api.kit.outbox import Event
from oms_api.kit.sql import dialect_name
from oms_api.webhooks.domain import AttemptOutcome, Breaker, DeliveryStatus
from oms_api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from oms_api.webhooks.repository import holds_order

PENDING = DeliveryStatus.PENDING.value
IN_FLIGHT = AttemptOutcome.IN_FLIGHT.value
ABANDONED = AttemptOutcome.ABANDONED.value


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease_until: datetime,
    token: uuid.UUID,
    budget: int,
    sending: Mapping[uuid.UUID, int],
) -> list[tuple[uuid.UUID, int]]:
    """Claim up to ``limit`` due deliveries for one worker; ``(id, attempt number)`` of each.

    Due: pending, its time has come, not claimed (or its lease expired: that worker died), and no earlier
    delivery for the same endpoint and aggregate holds the order (pending, or a dead letter nobody resolved).
    Per endpoint, no more than its room: ``budget`` less what this worker is sending to it (``sending``);
    none while its circuit is open, and one probe when it is half-open (unless any worker's live lease on
    one of its deliveries says a probe is already out). So a receiver that never answers holds ``budget``
    of the worker's slots at most, and the other endpoints' deliveries are claimed beside it.

    ``FOR UPDATE SKIP LOCKED`` lets workers claim at once on PostgreSQL without waiting for each other or
    taking the same row; SQLite runs one writer at a time.
    """
    d, e = WebhookDelivery, WebhookEndpoint
    live = aliased(WebhookDelivery)
    in_flight = (
        select(func.count())
        .where(live.endpoint_id == e.id, live.claim_token.is_not(None), live.claimed_until >= now)
        .scalar_subquery()
    )
    mine = case(*((e.id == key, n) for key, n in sending.items()), else_=0) if sending else literal(0)
    room = case((e.circuit_open_until.is_(None), budget - mine), else_=1 - in_flight)
    rooms = (
        select(e.id.label("endpoint_id"), room.label("room"))
        .where(e.active.is_(True), or_(e.circuit_open_until.is_(None), e.circuit_open_until <= now))
        .subquery()
    )
    # The ordering rule: the delivery is the first (by event, then id) of those holding its endpoint+aggregate.
    # A correlated LIMIT 1 probe of ix_webhook_deliveries_in_order per candidate: unlike NOT EXISTS, which the
    # planner may turn into an anti-join that scans the index once per row on a table without statistics yet,
    # it cannot be flattened, so it stays one short index read per candidate.
    earlier = aliased(WebhookDelivery)
    head = (
        select(earlier.id)
        .where(
            earlier.endpoint_id == d.endpoint_id,
            earlier.aggregate_id == d.aggregate_id,
            earlier.aggregate_type == d.aggregate_type,
            holds_order(earlier),
        )
        .order_by(earlier.event_seq, earlier.id)
        .limit(1)
        .scalar_subquery()
    )
    unclaimed = or_(d.claimed_until.is_(None), d.claimed_until < now)
    ready = (d.status == PENDING, d.next_attempt_at <= now, unclaimed, d.id == head)
    if dialect_name(session) == "postgresql":
        # Planned for this backlog every time: after five runs of a prepared statement PostgreSQL may keep a
        # generic plan, which for this query (costed on the bound time) was 5-20x slower than a custom one.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # Each endpoint with room walks its own due deliveries in order (ix_webhook_deliveries_endpoint_due) and
        # stops at its room: a claim reads about ``limit`` rows, however large the backlog.
        picks = (
            select(d.id, d.next_attempt_at, d.event_seq)
            .where(d.endpoint_id == rooms.c.endpoint_id, *ready)
            .order_by(d.next_attempt_at, d.event_seq)
            .limit(rooms.c.room)
            .lateral()
        )
        chosen = (
            select(picks.c.id)
            .select_from(rooms.join(picks, true()))
            .where(rooms.c.room > 0)
            .order_by(picks.c.next_attempt_at, picks.c.event_seq)
            .limit(limit)
        )
    else:  # SQLite has no LATERAL: rank every due delivery within its endpoint
        rank = func.row_number().over(partition_by=d.endpoint_id, order_by=(d.next_attempt_at, d.event_seq, d.id))
        ranked = (
            select(d.id, d.next_attempt_at, d.event_seq, rooms.c.room, rank.label("rank"))
            .join(rooms, rooms.c.endpoint_id == d.endpoint_id)
            .where(rooms.c.room > 0, *ready)
            .subquery()
        )
        chosen = (
            select(ranked.c.id)
            .where(ranked.c.rank <= ranked.c.room)
            .order_by(ranked.c.next_attempt_at, ranked.c.event_seq)
            .limit(limit)
        )
    # Joined (not IN): the few chosen ids lead, each row found by its key. The row's own conditions again:
    # PostgreSQL re-checks them on a row another worker claimed meanwhile.
    picked = chosen.subquery()
    locked = (
        select(d.id)
        .join(picked, picked.c.id == d.id)
        .where(d.status == PENDING, unclaimed)
        .with_for_update(skip_locked=True, of=d)
    )
    claimed = await session.execute(
        update(d)
        .where(d.id.in_(locked.scalar_subquery()))
        .values(claimed_until=lease_until, claim_token=token, attempt_count=d.attempt_count + 1)
        .returning(d.id, d.attempt_count)
    )
    return [(row.id, row.attempt_count) for row in claimed]


async def start_attempts(
    session: AsyncSession, claimed: Sequence[tuple[uuid.UUID, int]], now: datetime, worker: str
) -> dict[uuid.UUID, uuid.UUID]:
    """Write an ``in_flight`` attempt per claimed delivery; ``{delivery id: attempt id}``."""
    attempt_ids = {delivery_id: uuid7() for delivery_id, _ in claimed}
    rows = [
        {
            "id": attempt_ids[delivery_id],
            "delivery_id": delivery_id,
            "attempt_no": attempt_no,
            "attempted_at": now,
            "duration_ms": None,
            "outcome": IN_FLIGHT,
            "status_code": None,
            "error": None,
            "response_excerpt": None,
            "next_attempt_at": None,
            "worker": worker,
        }
        for delivery_id, attempt_no in claimed
    ]
    await session.execute(insert(WebhookAttempt).values(rows))
    return attempt_ids


async def abandon_earlier(session: AsyncSession, attempts: Mapping[uuid.UUID, int]) -> None:
    """``{delivery id: attempt number}`` just recorded: an earlier attempt of the delivery still in flight
    belonged to a worker whose lease ran out (it died, or stalled); it becomes ``abandoned``. Done when the
    takeover's attempt is recorded rather than when it is claimed, so claims stay short; a late answer from
    that worker still completes its attempt (``finish_attempts``)."""
    if not attempts:
        return
    a = WebhookAttempt
    await session.execute(
        update(a)
        .where(
            a.delivery_id.in_(list(attempts)),
            a.outcome == IN_FLIGHT,
            a.attempt_no < case(*((a.delivery_id == key, n) for key, n in attempts.items())),
        )
        .values(outcome=ABANDONED, error="the worker's lease ran out before an answer was recorded; taken over")
    )


async def _abandon(session: AsyncSession, delivery_ids: Sequence[uuid.UUID], why: str) -> None:
    if delivery_ids:
        await session.execute(
            update(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(delivery_ids), WebhookAttempt.outcome == IN_FLIGHT)
            .values(outcome=ABANDONED, error=why)
        )


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


async def renew_leases(
    session: AsyncSession, token: uuid.UUID, ids: Sequence[uuid.UUID], until: datetime
) -> set[uuid.UUID]:
    """The heartbeat: extend this worker's leases on deliveries still in flight; returns those it still holds."""
    if not ids:
        return set()
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claim_token == token)
        .values(claimed_until=until)
        .returning(WebhookDelivery.id)
    )
    return set(result.scalars())


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


SETTLED_FIELDS = ("status", "next_attempt_at", "last_status_code", "last_error", "finished_at")
ATTEMPT_FIELDS = (
    "attempted_at",
    "duration_ms",
    "outcome",
    "status_code",
    "error",
    "response_excerpt",
    "next_attempt_at",
)


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


async def finish_attempts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Complete attempt rows (``attempt_id`` and every field of ``ATTEMPT_FIELDS``), one batched UPDATE.

    Also when the worker no longer holds the delivery: its request was made, and what came back is shown.
    """
    if not rows:
        return
    table = cast(Table, WebhookAttempt.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("attempt_id"))
        .values(**{f: bindparam(f"new_{f}") for f in ATTEMPT_FIELDS})
    )
    await session.execute(
        stmt, [{"attempt_id": r["attempt_id"], **{f"new_{f}": r[f] for f in ATTEMPT_FIELDS}} for r in rows]
    )


async def release_claims(session: AsyncSession, token: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    """Give back claims whose requests were cut short (shutdown), so another worker takes them at once."""
    if not ids:
        return
    released = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claim_token == token)
        .values(claimed_until=None, claim_token=None)
        .returning(WebhookDelivery.id)
    )
    await _abandon(session, list(released.scalars()), "the worker stopped before the answer came")


# --- endpoint health --------------------------------------------------------------------------------------------


async def lock_health(session: AsyncSession, endpoint_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The endpoints' failure run, circuit and ``active``, locked (in id order: no deadlock between workers)."""
    if not endpoint_ids:
        return {}
    e = WebhookEndpoint
    rows = await session.execute(
        select(e.id, e.active, e.consecutive_failures, e.circuit_failures, e.circuit_open_until)
        .where(e.id.in_(sorted(endpoint_ids)))
        .order_by(e.id)
        .with_for_update()
    )
    return {row.id: row for row in rows}


async def write_health(session: AsyncSession, endpoint_id: uuid.UUID, failures: int, breaker: Breaker) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .values(
            consecutive_failures=failures,
            circuit_failures=breaker.failures,
            circuit_open_until=breaker.open_until,
        )
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
